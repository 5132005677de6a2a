import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl config view`: the merged kubeconfig, secrets hidden unless `--raw`.
struct ConfigView: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "view", abstract: "Display merged kubeconfig settings or a specified kubeconfig file")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .customLong("raw"), help: "Display raw byte data and sensitive data") var raw = false
    @Flag(name: .customLong("minify"), help: "Remove all information not used by current-context from the output") var minify = false
    @Flag(name: .customLong("flatten"), help: "Flatten the resulting kubeconfig file into self-contained output") var flatten = false
    @Option(name: [.customShort("o"), .customLong("output")], help: "yaml or json") var output: String?

    func run() async throws {
        let session = Session(global)
        var doc: [String: JSONValue]
        do { doc = try session.files().merged.objectValue ?? [:] } catch { throw CommandFailure(CommandFailure.describe(error)) }
        let contextName = global.context ?? doc["current-context"]?.stringValue ?? ""
        if minify {
            guard !contextName.isEmpty else { throw CommandFailure.error("current-context must exist in order to minify") }
            let ctx = (doc["contexts"]?.arrayValue ?? []).first { $0["name"]?.stringValue == contextName }
            guard let ctx else { throw CommandFailure.error("cannot locate context \(contextName)") }
            let cluster = ctx["context"]?["cluster"]?.stringValue
            let user = ctx["context"]?["user"]?.stringValue
            doc["contexts"] = .array([ctx])
            doc["clusters"] = .array((doc["clusters"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == cluster })
            doc["users"] = .array((doc["users"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == user })
            doc["current-context"] = .string(contextName)
        }
        if !raw {
            for (list, body) in [("clusters", "cluster"), ("users", "user")] {
                guard let items = doc[list]?.arrayValue else { continue }
                doc[list] = .array(items.map { Self.redact($0, body: body) })
            }
        }
        if output == "json" {
            Terminal.write(KubeconfigJSON.render(.object(doc)))
        } else {
            Terminal.write(YAMLEncoding.encode(.object(doc)))
        }
    }

    /// `*-data` fields become `DATA+OMITTED`, tokens `REDACTED`, as kubectl shows them.
    static func redact(_ entry: JSONValue, body: String) -> JSONValue {
        guard case .object(var e) = entry, case .object(var inner)? = e[body] else { return entry }
        for key in ["certificate-authority-data", "client-certificate-data", "client-key-data"] where inner[key] != nil {
            inner[key] = "DATA+OMITTED"
        }
        if inner["token"] != nil { inner["token"] = "REDACTED" }
        e[body] = .object(inner)
        return .object(e)
    }
}
