import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl scale TYPE NAME --replicas=N`: through the `scale` subresource.
struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set a new size for a deployment, replica set, or replication controller")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("replicas")) var replicas: Int64?
    @Option(name: .customLong("current-replicas")) var currentReplicas: Int64 = -1
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: .customLong("all")) var all = false

    func run() async throws {
        guard let replicas, replicas >= 0 else {
            throw CommandFailure.error("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
        }
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session, selector: selector, all: all) {
                let scalePath = ref.path + "/scale"
                if currentReplicas >= 0 {
                    let s = try await client.get(scalePath)
                    let now = s["spec"]?["replicas"]?.intValue ?? 0
                    if now != currentReplicas {
                        throw CommandFailure.error("Expected replicas to be \(currentReplicas), was \(now)")
                    }
                }
                _ = try await client.patch(scalePath, .object(["spec": .object(["replicas": .int(replicas)])]), type: .merge)
                Terminal.write("\(ref.display) scaled\n")
            }
        }
    }
}

/// `kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json]`.
struct Patch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Update fields of a resource")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: [.customShort("p"), .customLong("patch")]) var patch: String?
    @Option(name: .customLong("type")) var type: String = "strategic"
    @Option(name: .customLong("subresource")) var subresource: String?
    @Option(name: .customLong("dry-run")) var dryRun: String?

    func run() async throws {
        guard let patch else { throw CommandFailure.error("must specify --patch or --patch-file containing the contents of the patch") }
        let kind: KubeRESTClient.PatchType
        switch type {
        case "strategic": kind = .strategicMerge
        case "merge": kind = .merge
        case "json": kind = .json
        default: throw CommandFailure.error("--type must be one of [json merge strategic], not \"\(type)\"")
        }
        let body: JSONValue
        do { body = try YAMLDecoding.decode(patch) } catch {
            throw CommandFailure.error("unable to parse \"\(patch)\": \(error)")
        }
        let mode = try DryRun(flag: dryRun)
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let path = ref.path + (subresource.map { "/" + $0 } ?? "")
                let before = try await client.get(path)
                let after = try await client.patch(path, body, type: kind, query: mode.query)
                let same = before["metadata"]?["resourceVersion"] == after["metadata"]?["resourceVersion"]
                Terminal.write("\(ref.display) patched\(same ? " (no change)" : "")\(mode.suffix)\n")
            }
        }
    }
}
