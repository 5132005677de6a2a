import ArgumentParser
import KubeModel

/// `kubectl version`: client version, and the server's unless `--client`.
struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the client and server version information")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("client"), help: "If true, shows client version only (no server required).")
    var clientOnly = false
    @Option(name: [.customShort("o"), .customLong("output")], help: "One of 'yaml' or 'json'.")
    var output: String?

    static var clientInfo: JSONValue {
        .object(["major": .string(Version.major), "minor": .string(Version.minor), "gitVersion": .string(Version.client),
                 "gitCommit": "", "gitTreeState": "", "buildDate": "", "goVersion": "", "compiler": "swift",
                 "platform": .string(platform)])
    }

    static var platform: String {
        #if os(Linux)
        let os = "linux"
        #else
        let os = "darwin"
        #endif
        #if arch(x86_64)
        return os + "/amd64"
        #else
        return os + "/arm64"
        #endif
    }

    func run() async throws {
        if let output, output != "json" && output != "yaml" {
            throw CommandFailure.error("--output must be 'yaml' or 'json'")
        }
        var doc: [String: JSONValue] = ["clientVersion": Self.clientInfo]
        var text = "Client Version: \(Version.client)\n"
        if !clientOnly {
            let server = try await Session.with(global) { try await $0.client().get("/version") }
            doc["serverVersion"] = server
            text += "Server Version: \(server["gitVersion"]?.stringValue ?? "")\n"
        }
        switch output {
        case "json": Terminal.write(JSONWriter.prettyString(.object(doc)) + "\n")
        case "yaml": Terminal.write(YAMLEncoding.encode(.object(doc)))
        default: Terminal.write(text)
        }
    }
}
