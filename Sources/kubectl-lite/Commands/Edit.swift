import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl edit TYPE NAME`: opens the object as YAML in `$KUBE_EDITOR`, `$EDITOR` or `vi`,
/// saves the change as a patch, and reopens the file with the error on top when the server refuses it.
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

    /// The header with the reasons the last save failed, as kubectl reopens the file.
    static func header(reasons: [String]) -> String {
        header + reasons.map { "# \($0)\n#\n" }.joined()
    }

    /// The text without comment lines and surrounding blank space (what kubectl compares).
    static func withoutComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("#") }.joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let original = try await ResourceReader(client: client).get(ref.resource, namespace: ref.namespace, name: ref.name)
                let originalText = YAMLEncoding.encode(original)
                var text = Self.header + originalText
                let file = NSTemporaryDirectory() + "kubectl-lite-edit-\(UUID().uuidString).yaml"
                var keepFile = false
                defer { if !keepFile { try? FileManager.default.removeItem(atPath: file) } }
                // What the editor left when the last save failed: the same text again cancels.
                var failed: String?
                while true {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
                    try Self.openEditor(file)
                    let body = Self.withoutComments(String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self))
                    if let failed, failed == body {
                        keepFile = true
                        Terminal.printError("A copy of your changes has been stored to \"\(file)\"")
                        throw CommandFailure.error("Edit cancelled, no valid changes were saved.")
                    }
                    if body == Self.withoutComments(originalText) {
                        Terminal.printError("Edit cancelled, no changes made.")
                        break
                    }
                    if body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        Terminal.printError("Edit cancelled, saved file was empty.")
                        break
                    }
                    let resource = ref.resource.qualifiedName
                    let object: JSONValue
                    do { object = try YAMLDecoding.decode(body) } catch {
                        // kubectl reports unreadable YAML as a failed validation of the object.
                        Terminal.printError("error: \(resource) \"\(ref.name)\" is invalid")
                        failed = body
                        text = Self.header(reasons: ["\(resource) \"\(ref.name)\" was not valid:",
                                                     "* <nil>: Invalid value: \"The edited file failed validation\": \(error)"]) + body + "\n"
                        continue
                    }
                    // kubectl sends the change as a patch from the object it opened (strategic
                    // merge for built-in types, JSON merge otherwise), so concurrent writers to
                    // other fields are kept.
                    let typeName = Schema.kubernetes.typeName(group: ref.resource.group, version: ref.resource.version, kind: ref.resource.kind)
                    let patch = ThreeWayMergePatch.create(original: original, modified: object, current: original, typeName: typeName)
                    if object == original || patch.objectValue?.isEmpty == true {
                        Terminal.printError("Edit cancelled, no changes made.")
                        break
                    }
                    do {
                        _ = try await client.patch(ref.path, patch, type: typeName == nil ? .merge : .strategicMerge)
                        Terminal.write("\(ref.display) edited\n")
                        break
                    } catch let e as KubeAPIError where e.code == 422 {
                        // Invalid: reopen with the causes on top.
                        Terminal.printError("error: \(resource) \"\(ref.name)\" is invalid")
                        let causes = (e.status?["details"]?["causes"]?.arrayValue ?? []).map {
                            "* \($0["field"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")"
                        }
                        failed = body
                        text = Self.header(reasons: ["\(resource) \"\(ref.name)\" was not valid:"] + causes) + body + "\n"
                    } catch let e as KubeAPIError where e.isNotFound {
                        throw CommandFailure.error("\(resource) \"\(ref.name)\" could not be found on the server")
                    } catch let e as KubeAPIError {
                        keepFile = true
                        Terminal.printError("error: \(resource) \"\(ref.name)\" could not be patched: \(e.message)")
                        // kubectl's advice, word for word (kubectl-lite has no `replace`).
                        throw CommandFailure("You can run `kubectl replace -f \(file)` to try this update again.")
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
