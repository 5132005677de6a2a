import ArgumentParser
import KubeModel

/// `kubectl run NAME --image=IMAGE [--labels] [--env] [--port] [--restart] [--command] -- ARGS`:
/// creates one Pod, shaped as kubectl's generator shapes it.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a particular image on the cluster")
    @OptionGroup var global: GlobalOptions
    @Argument var name: String
    @Argument(parsing: .postTerminator) var extra: [String] = []
    @Option(name: .customLong("image")) var image: String?
    @Option(name: [.customShort("l"), .customLong("labels")]) var labels: String?
    @Option(name: .customLong("env")) var env: [String] = []
    @Option(name: .customLong("port")) var port: Int64?
    @Option(name: .customLong("restart")) var restart: String = "Always"
    @Flag(name: .customLong("command")) var command = false
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        guard let image, !image.isEmpty else { throw CommandFailure.error("--image is required") }
        var labelMap: [String: JSONValue] = ["run": .string(name)]
        if let labels {
            labelMap = [:]
            for pair in labels.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                labelMap[kv[0]] = .string(kv.count > 1 ? kv[1] : "")
            }
        }
        var c: [String: JSONValue] = ["name": .string(name), "image": .string(image), "resources": .object([:])]
        if !extra.isEmpty { c[command ? "command" : "args"] = .array(extra.map(JSONValue.string)) }
        if !env.isEmpty {
            c["env"] = .array(env.map { e in
                let kv = e.split(separator: "=", maxSplits: 1).map(String.init)
                return .object(["name": .string(kv[0]), "value": .string(kv.count > 1 ? kv[1] : "")])
            })
        }
        if let port { c["ports"] = .array([.object(["containerPort": .int(port)])]) }
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": .object(["name": .string(name), "labels": .object(labelMap)]),
            "spec": .object(["containers": .array([.object(c)]), "dnsPolicy": "ClusterFirst", "restartPolicy": .string(restart)]),
            "status": .object([:]),
        ]
        try await ObjectCreator.createGenerated(pod, global: global, dryRun: dryRun, output: output)
    }
}
