import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl expose TYPE NAME --port=P [--target-port] [--name] [--type] [--protocol]`: a
/// Service selecting the workload's pods.
struct Expose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("port")) var port: Int64?
    @Option(name: .customLong("target-port")) var targetPort: String?
    @Option(name: .customLong("name")) var name: String?
    @Option(name: .customLong("type")) var type: String?
    @Option(name: .customLong("protocol")) var proto: String = "TCP"
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        let mode = try DryRun(flag: dryRun)
        try await Session.with(global) { session in
            let client = try session.client()
            guard let ref = try await ObjectRef.select(args, session: session).first else {
                throw CommandFailure.error("you must provide one or more resources by argument or filename")
            }
            let object = try await client.get(ref.path)
            let selector: [String: JSONValue]
            if ref.resource.kind == "Pod" || ref.resource.kind == "Service" {
                selector = ref.resource.kind == "Pod" ? object["metadata"]?["labels"]?.objectValue ?? [:] : object["spec"]?["selector"]?.objectValue ?? [:]
            } else {
                selector = object["spec"]?["selector"]?["matchLabels"]?.objectValue ?? object["spec"]?["selector"]?.objectValue ?? [:]
            }
            guard !selector.isEmpty else {
                throw CommandFailure.error("couldn't retrieve selectors via --selector flag or introspection: the \(ref.resource.kind) has no selector")
            }
            var servicePort = port
            if servicePort == nil {
                let containers = object["spec"]?["template"]?["spec"]?["containers"]?.arrayValue ?? object["spec"]?["containers"]?.arrayValue ?? []
                servicePort = containers.first?["ports"]?.arrayValue?.first?["containerPort"]?.intValue
            }
            guard let servicePort else {
                throw CommandFailure.error("couldn't find port via --port flag or introspection")
            }
            var p: [String: JSONValue] = ["port": .int(servicePort), "protocol": .string(proto)]
            if let targetPort { p["targetPort"] = Int64(targetPort).map(JSONValue.int) ?? .string(targetPort) } else { p["targetPort"] = .int(servicePort) }
            var spec: [String: JSONValue] = ["ports": .array([.object(p)]), "selector": .object(selector)]
            if let type { spec["type"] = .string(type) }
            let serviceName = name ?? ref.name
            var meta: [String: JSONValue] = ["name": .string(serviceName), "creationTimestamp": .null]
            if let labels = object["metadata"]?["labels"], labels.objectValue?.isEmpty == false { meta["labels"] = labels }
            if let ns = ref.namespace { meta["namespace"] = .string(ns) }
            let service: JSONValue = ["apiVersion": "v1", "kind": "Service", "metadata": .object(meta), "spec": .object(spec), "status": ["loadBalancer": .object([:])]]
            var result = service
            if mode != .client {
                result = try await client.create("/api/v1/namespaces/\(ref.namespace ?? "default")/services", service, query: mode.query)
            }
            switch output {
            case "yaml": Terminal.write(YAMLEncoding.encode(result))
            case "json": Terminal.write(JSONWriter.prettyString(result) + "\n")
            default: Terminal.write("service/\(serviceName) exposed\(mode.suffix)\n")
            }
        }
    }
}

/// `kubectl autoscale TYPE NAME --max=N [--min=N] [--cpu-percent=N] [--name]`: an
/// autoscaling/v2 HorizontalPodAutoscaler for the workload.
struct Autoscale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Auto-scale a deployment, replica set, stateful set, or replication controller")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("min")) var min: Int64 = -1
    @Option(name: .customLong("max")) var max: Int64 = -1
    @Option(name: .customLong("cpu-percent")) var cpuPercent: Int64 = -1
    @Option(name: .customLong("name")) var name: String?
    @Option(name: .customLong("dry-run")) var dryRun: String?

    func run() async throws {
        guard max >= 1 else { throw CommandFailure.error("--max=MAXPODS is required and must be at least 1, max: \(max)") }
        if min > max { throw CommandFailure.error("--max=MAXPODS must be larger or equal to --min=MINPODS, max: \(max), min: \(min)") }
        try await Session.with(global) { session in
            guard let ref = try await ObjectRef.select(args, session: session).first else {
                throw CommandFailure.error("you must provide one or more resources by argument or filename")
            }
            var spec: [String: JSONValue] = [
                "scaleTargetRef": .object(["apiVersion": .string(ref.resource.groupVersion), "kind": .string(ref.resource.kind), "name": .string(ref.name)]),
                "maxReplicas": .int(max),
            ]
            if min >= 1 { spec["minReplicas"] = .int(min) }
            if cpuPercent >= 0 {
                spec["metrics"] = .array([["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": .int(cpuPercent)]]]])
            }
            let hpa: JSONValue = ["apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                  "metadata": .object(["name": .string(name ?? ref.name)]), "spec": .object(spec)]
            let mode = try DryRun(flag: dryRun)
            guard let r = try await session.resource(apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler") else {
                throw CommandFailure.error("the server doesn't have a resource type \"horizontalpodautoscalers\"")
            }
            if mode != .client {
                _ = try await session.client().create(r.path(namespace: ref.namespace).path, hpa, query: mode.query)
            }
            Terminal.write("horizontalpodautoscaler.autoscaling/\(name ?? ref.name) autoscaled\(mode.suffix)\n")
        }
    }
}
