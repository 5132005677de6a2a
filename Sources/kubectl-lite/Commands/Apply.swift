import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl apply -f`: client-side apply (the default), `--server-side`, `--dry-run`, `--prune -l`.
struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply a configuration to a resource by file name or stdin")

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("f"), .customLong("filename")], help: "The files that contain the configurations to apply.")
    var filenames: [String] = []
    @Flag(name: [.customShort("R"), .customLong("recursive")], help: "Process the directory used in -f, --filename recursively.")
    var recursive = false
    @Flag(name: .customLong("server-side"), help: "If true, apply runs in the server instead of the client.")
    var serverSide = false
    @Flag(name: .customLong("force-conflicts"), help: "If true, server-side apply will force the changes against conflicts.")
    var forceConflicts = false
    @Option(name: .customLong("field-manager"), help: "Name of the manager used to track field ownership.")
    var fieldManager: String?
    @Option(name: .customLong("dry-run"), help: "Must be \"none\", \"server\", or \"client\".")
    var dryRun: String?
    @Flag(name: .customLong("prune"), help: "Automatically delete resource objects that do not appear in the configs and are created by either apply or create --save-config. Should be used with -l.")
    var prune = false
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Selector (label query) to filter on")
    var selector: String?
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format. One of: (json, yaml, name).")
    var output: String?

    func run() async throws {
        guard !filenames.isEmpty else {
            throw CommandFailure("error: must specify one of -f and -k\n\nSee 'kubectl apply -h' for help and examples")
        }
        let mode = try DryRun(flag: dryRun)
        if prune && selector == nil {
            throw CommandFailure.error("all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector")
        }
        let manifests = try ManifestReader.read(filenames, recursive: recursive)
        if manifests.isEmpty { throw CommandFailure.error("no objects passed to apply") }
        try await Session.with(global) { session in
            let targets = try await ManifestTarget.resolve(manifests, session: session)
            let client = try session.client()
            var failures: [String] = []
            var out = ""
            for t in targets {
                do {
                    let verb: String
                    if serverSide {
                        var query = mode.query
                        query["fieldManager"] = fieldManager ?? "kubectl"
                        if forceConflicts { query["force"] = "true" }
                        if mode != .client { _ = try await client.patch(t.path.path, t.object, type: .apply, query: query) }
                        verb = "serverside-applied"
                    } else {
                        verb = try await ClientSideApply(client: client).apply(t, dryRun: mode) { Terminal.printError($0) }.rawValue
                    }
                    out += output == "name" ? t.displayName + "\n" : "\(t.displayName) \(verb)\(mode.suffix)\n"
                } catch let e as KubeAPIError {
                    failures.append(Self.applyError(e, t))
                }
                Terminal.write(out)
                out = ""
            }
            if prune, let selector {
                try await Pruner(client: client, session: session)
                    .prune(applied: targets, selector: selector, dryRun: mode)
            }
            if !failures.isEmpty { throw CommandFailure(failures.joined(separator: "\n")) }
        }
    }

    /// kubectl's wording for a failed apply of one object.
    static func applyError(_ e: KubeAPIError, _ t: ManifestTarget) -> String {
        let reason = e.reason.isEmpty ? "" : " (\(e.reason))"
        return "Error from server\(reason): error when applying patch:\n\(JSONWriter.string(t.object))\n\nfor: \"\(t.manifest.source)\": \(e.message)"
    }
}
