import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl config get-contexts [NAME]`.
struct ConfigGetContexts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get-contexts", abstract: "Describe one or many contexts")

    @OptionGroup var global: GlobalOptions
    @Argument var names: [String] = []
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format. One of: (name).") var output: String?
    @Flag(name: .customLong("no-headers"), help: "When using the default or custom-column output format, don't print headers") var noHeaders = false

    func run() async throws {
        let doc: JSONValue
        do { doc = try Session(global).files().merged } catch { throw CommandFailure(CommandFailure.describe(error)) }
        let current = doc["current-context"]?.stringValue ?? ""
        var contexts = (doc["contexts"]?.arrayValue ?? []).sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") }
        var missing: [String] = []
        if !names.isEmpty {
            missing = names.filter { n in !contexts.contains { $0["name"]?.stringValue == n } }
            contexts = contexts.filter { names.contains($0["name"]?.stringValue ?? "") }
        }
        if output == "name" {
            Terminal.write(contexts.map { ($0["name"]?.stringValue ?? "") + "\n" }.joined())
        } else {
            var rows: [[String]] = noHeaders ? [] : [["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]]
            for c in contexts {
                let name = c["name"]?.stringValue ?? ""
                let ctx = c["context"]
                rows.append([name == current ? "*" : "", name, ctx?["cluster"]?.stringValue ?? "",
                             ctx?["user"]?.stringValue ?? "", ctx?["namespace"]?.stringValue ?? ""])
            }
            Terminal.write(TabWriter.align(rows))
        }
        if !missing.isEmpty {
            throw CommandFailure.error("context \(missing[0]) not found")
        }
    }
}

/// `kubectl config current-context`.
struct ConfigCurrentContext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "current-context", abstract: "Display the current-context")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let doc: JSONValue
        do { doc = try Session(global).files().merged } catch { throw CommandFailure(CommandFailure.describe(error)) }
        let current = doc["current-context"]?.stringValue ?? ""
        guard !current.isEmpty else { throw CommandFailure.error("current-context is not set") }
        Terminal.write(current + "\n")
    }
}

/// `kubectl config use-context NAME`.
struct ConfigUseContext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "use-context", abstract: "Set the current-context in a kubeconfig file")
    @OptionGroup var global: GlobalOptions
    @Argument var name: String

    func run() async throws {
        do {
            let files = try Session(global).files()
            let known = (files.merged["contexts"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == name }
            guard known else { throw CommandFailure.error("no context exists with the name: \"\(name)\"") }
            try KubeconfigFiles.update(files.defaultPath) { $0["current-context"] = .string(name) }
        } catch let f as CommandFailure { throw f } catch { throw CommandFailure(CommandFailure.describe(error)) }
        Terminal.write("Switched to context \"\(name)\".\n")
    }
}

/// `kubectl config set-context [NAME | --current] [--cluster] [--user] [--namespace]`.
struct ConfigSetContext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set-context", abstract: "Set a context entry in kubeconfig")
    @OptionGroup var global: GlobalOptions
    @Argument var name: String?
    @Flag(name: .customLong("current"), help: "Modify the current context") var current = false
    @Option(name: .customLong("cluster"), help: "cluster for the context entry in kubeconfig") var cluster: String?
    @Option(name: .customLong("user"), help: "user for the context entry in kubeconfig") var user: String?

    func run() async throws {
        var created = false
        var target = ""
        do {
            let files = try Session(global).files()
            if current {
                guard name == nil else { throw CommandFailure.error("you cannot specify a context name and --current") }
                target = files.merged["current-context"]?.stringValue ?? ""
                guard !target.isEmpty else { throw CommandFailure.error("no current context is set") }
            } else {
                guard let name, !name.isEmpty else { throw CommandFailure.error("you must specify a non-empty context name or --current") }
                target = name
            }
            let path = files.fileDefining("contexts", name: target)
            let namespace = global.namespace
            try KubeconfigFiles.update(path) { doc in
                created = KubeconfigFiles.upsert(&doc, list: "contexts", name: target, body: "context") { ctx in
                    if let cluster { ctx["cluster"] = .string(cluster) }
                    if let user { ctx["user"] = .string(user) }
                    if let namespace { ctx["namespace"] = .string(namespace) }
                }
            }
        } catch let f as CommandFailure { throw f } catch { throw CommandFailure(CommandFailure.describe(error)) }
        Terminal.write("Context \"\(target)\" \(created ? "created" : "modified").\n")
    }
}
