import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl edit TYPE NAME`: opens the object as YAML in `$KUBE_EDITOR`, `$EDITOR` or `vi`,
/// saves it with an update, and reopens the file with the error on top when the server refuses it.
struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Edit a resource on the server")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []

    static let header = """
        # Please edit the object below. Lines beginning with a '#' will be ignored,
        # and an empty file will abort the edit. If an error occurs while saving this file will be
        # reopened with the relevant failures.
        #

        """

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let original = try await ResourceReader(client: client).get(ref.resource, namespace: ref.namespace, name: ref.name)
                let originalText = YAMLEncoding.encode(original)
                var text = Self.header + originalText
                let file = NSTemporaryDirectory() + "kubectl-lite-edit-\(UUID().uuidString).yaml"
                defer { try? FileManager.default.removeItem(atPath: file) }
                var lastError: String?
                while true {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
                    try Self.openEditor(file)
                    let edited = String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
                    let body = edited.split(separator: "\n", omittingEmptySubsequences: false)
                        .filter { !$0.hasPrefix("#") }.joined(separator: "\n")
                    if body.trimmingCharacters(in: " \n\t").isEmpty {
                        throw CommandFailure("Edit cancelled, no changes made.", exitCode: 0)
                    }
                    let object: JSONValue
                    do { object = try YAMLDecoding.decode(body) } catch {
                        lastError = "# error: \(error)"
                        text = Self.header + (lastError.map { $0 + "\n#\n" } ?? "") + body
                        continue
                    }
                    if object == original {
                        if lastError != nil { throw CommandFailure.error("Edit cancelled, no valid changes were saved.") }
                        Terminal.printError("Edit cancelled, no changes made.")
                        break
                    }
                    do {
                        _ = try await client.update(ref.path, object)
                        Terminal.write("\(ref.display) edited\n")
                        break
                    } catch let e as KubeAPIError {
                        let message = "# \(ref.resource.groupResource) \"\(ref.name)\" was not valid:\n# * \(e.message)"
                        if lastError == message {
                            throw CommandFailure("error: \(ref.resource.groupResource) \"\(ref.name)\" is invalid\n\(CommandFailure.serverError(e))")
                        }
                        lastError = message
                        text = Self.header + message + "\n#\n" + body
                    }
                }
            }
        }
    }

    static func openEditor(_ file: String) throws {
        let env = ProcessInfo.processInfo.environment
        let editor = env["KUBE_EDITOR"] ?? env["EDITOR"] ?? "vi"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\(editor) \"$1\"", "sh", file]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CommandFailure.error("there was a problem with the editor \"\(editor)\"")
        }
    }
}
