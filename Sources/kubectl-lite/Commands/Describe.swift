import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl describe TYPE [NAME_PREFIX] | TYPE/NAME [-l SELECTOR]`: pods, deployments,
/// services, nodes and horizontal pod autoscalers, each with its events.
struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show details of a specific resource or group of resources")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")]) var allNamespaces = false
    @Option(name: .customLong("show-events")) var showEvents: Bool = true

    func run() async throws {
        guard !args.isEmpty else {
            throw CommandFailure("You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nSee 'kubectl describe -h' for help and examples")
        }
        try await Session.with(global) { session in
            let client = try session.client()
            let namespace = try session.namespace()
            let reader = ResourceReader(client: client)
            var objects: [(APIResourceInfo, JSONValue)] = []
            var failures: [String] = []
            for request in try ResourceArguments(args).requests {
                for r in try await session.resolve(request.type) {
                    let scope = r.namespaced && !allNamespaces ? namespace : nil
                    if request.names.isEmpty {
                        let items = try await reader.list(r, namespace: scope, selectors: selector.map { ["labelSelector": $0] } ?? [:]).items
                        objects += items.map { (r, $0) }
                        continue
                    }
                    for name in request.names {
                        do { objects.append((r, try await reader.get(r, namespace: scope, name: name))) } catch let e as KubeAPIError where e.isNotFound {
                            // kubectl falls back to every object whose name starts with the argument.
                            let all = try await reader.list(r, namespace: scope, selectors: [:]).items
                            let matches = all.filter { ($0["metadata"]?["name"]?.stringValue ?? "").hasPrefix(name) }
                            if matches.isEmpty { failures.append(CommandFailure.serverError(e)) }
                            objects += matches.map { (r, $0) }
                        }
                    }
                }
            }
            if objects.isEmpty && failures.isEmpty {
                Terminal.printError(Get.noResources([], namespace: namespace, allNamespaces: true) + (allNamespaces ? "" : " in \(namespace) namespace."))
                return
            }
            var first = true
            for (r, object) in objects {
                let text = try await describe(r, object, client: client)
                Terminal.write(first ? text : "\n\n" + text)
                first = false
            }
            if !failures.isEmpty { throw CommandFailure(failures.joined(separator: "\n")) }
        }
    }

    private func describe(_ r: APIResourceInfo, _ object: JSONValue, client: KubeRESTClient) async throws -> String {
        let events = showEvents ? try await Self.events(for: object, kind: r.kind, client: client) : []
        let ns = object["metadata"]?["namespace"]?.stringValue ?? ""
        switch (r.group, r.kind) {
        case ("", "Pod"):
            return PodDescriber.describe(object, events: events)
        case ("apps", "Deployment"):
            let sets = try await client.list("/apis/apps/v1/namespaces/\(ns)/replicasets")["items"]?.arrayValue ?? []
            return DeploymentDescriber.describe(object, replicaSets: sets, events: events)
        case ("", "Service"):
            let name = object["metadata"]?["name"]?.stringValue ?? ""
            let slices = (try? await client.list("/apis/discovery.k8s.io/v1/namespaces/\(ns)/endpointslices",
                                                query: ["labelSelector": "kubernetes.io/service-name=\(name)"]))?["items"]?.arrayValue ?? []
            return ServiceDescriber.describe(object, slices: slices, events: events)
        case ("", "Node"):
            let name = object["metadata"]?["name"]?.stringValue ?? ""
            let pods = try await client.list("/api/v1/pods", query: ["fieldSelector": "spec.nodeName=\(name),status.phase!=Succeeded,status.phase!=Failed"])["items"]?.arrayValue ?? []
            let lease = try? await client.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/\(name)")
            return NodeDescriber.describe(object, pods: pods, lease: lease, events: events)
        case ("autoscaling", "HorizontalPodAutoscaler"):
            var hpa = object
            if r.version != "v2" {
                hpa = try await client.get("/apis/autoscaling/v2/namespaces/\(ns)/horizontalpodautoscalers/\(object["metadata"]?["name"]?.stringValue ?? "")")
            }
            return HPADescriber.describe(hpa, events: events)
        default:
            throw CommandFailure.error("kubectl-lite describe does not support \(r.groupResource) yet (pods, deployments, services, nodes, horizontalpodautoscalers)")
        }
    }

    /// The object's events, as kubectl finds them (by involved object name, namespace, kind, uid).
    static func events(for object: JSONValue, kind: String, client: KubeRESTClient) async throws -> [JSONValue] {
        let meta = object["metadata"]
        let name = meta?["name"]?.stringValue ?? "", ns = meta?["namespace"]?.stringValue ?? ""
        var selector = "involvedObject.name=\(name),involvedObject.namespace=\(ns),involvedObject.kind=\(kind)"
        if let uid = meta?["uid"]?.stringValue { selector += ",involvedObject.uid=\(uid)" }
        let path = ns.isEmpty ? "/api/v1/events" : "/api/v1/namespaces/\(ns)/events"
        return (try? await client.list(path, query: ["fieldSelector": selector]))?["items"]?.arrayValue ?? []
    }
}
