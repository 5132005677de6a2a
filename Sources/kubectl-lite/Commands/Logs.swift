import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl logs POD|TYPE/NAME [-c C] [-f] [-p] [--tail N] [--since D] [--timestamps]
/// [-l SELECTOR] [--all-containers]`.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the logs for a container in a pod")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: [.customShort("c"), .customLong("container")]) var container: String?
    @Flag(name: [.customShort("f"), .customLong("follow")]) var follow = false
    @Flag(name: [.customShort("p"), .customLong("previous")]) var previous = false
    @Option(name: .customLong("tail")) var tail: Int64 = -1
    @Option(name: .customLong("since")) var since: String?
    @Flag(name: .customLong("timestamps")) var timestamps = false
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: .customLong("all-containers")) var allContainers = false
    @Flag(name: .customLong("prefix")) var prefix = false
    @Option(name: .customLong("max-log-requests")) var maxLogRequests = 5

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            let ns = try session.namespace()
            var pods: [JSONValue] = []
            if let selector {
                pods = (try await client.list("/api/v1/namespaces/\(ns)/pods", query: ["labelSelector": selector])["items"]?.arrayValue ?? [])
                if pods.isEmpty { Terminal.printError("No resources found in \(ns) namespace."); return }
            } else {
                guard let target = args.first else {
                    throw CommandFailure.error("expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the logs command")
                }
                do { pods = [try await Self.pod(for: target, namespace: ns, session: session)] } catch let e as KubeAPIError where e.isNotFound && !target.contains("/") {
                    throw CommandFailure.error("error from server (NotFound): pods \"\(target)\" not found in namespace \"\(ns)\"")
                }
            }
            // kubectl shows the last 10 lines of each pod a selector picks unless --tail says otherwise.
            let tailLines = selector != nil && tail < 0 ? 10 : tail
            var requests: [(pod: String, container: String)] = []
            for pod in pods {
                let name = pod["metadata"]?["name"]?.stringValue ?? ""
                let names = { (key: String) in (pod["spec"]?[key]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
                let containers = names("containers")
                var chosen: [String]
                if allContainers {
                    // kubectl's set (init, regular, ephemeral) in that order; kubectl itself
                    // prints them in an order that varies from run to run.
                    chosen = names("initContainers") + containers + names("ephemeralContainers")
                } else if let container {
                    chosen = [container]
                } else if containers.count == 1 || pod["metadata"]?["annotations"]?["kubectl.kubernetes.io/default-container"] != nil {
                    chosen = [pod["metadata"]?["annotations"]?["kubectl.kubernetes.io/default-container"]?.stringValue ?? containers[0]]
                } else {
                    chosen = containers.prefix(1).map { $0 }
                    if let first = containers.first {
                        Terminal.printError("Defaulted container \"\(first)\" out of: \(containers.joined(separator: ", "))")
                    }
                }
                requests += chosen.map { (name, $0) }
            }
            var query: [String: String] = [:]
            if follow { query["follow"] = "true" }
            if previous { query["previous"] = "true" }
            if tailLines >= 0 { query["tailLines"] = String(tailLines) }
            if timestamps { query["timestamps"] = "true" }
            if let since, let s = DurationParser.seconds(since) { query["sinceSeconds"] = String(Int(max(1, s))) }
            let streams = requests.map { r in
                LogStream(client: client, path: "/api/v1/namespaces/\(ns)/pods/\(r.pod)/log", query: query.merging(["container": r.container]) { $1 },
                          label: prefix ? "[pod/\(r.pod)/\(r.container)] " : "")
            }
            // Followed streams never end, so several run side by side, whole lines at a time.
            guard follow && streams.count > 1 else {
                for stream in streams { try await stream.copy(wholeLines: !stream.label.isEmpty) }
                return
            }
            if streams.count > maxLogRequests {
                throw CommandFailure.error("you are attempting to follow \(streams.count) log streams, but maximum allowed concurrency is \(maxLogRequests), use --max-log-requests to increase the limit")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in streams { group.addTask { try await stream.copy(wholeLines: true) } }
                try await group.waitForAll()
            }
        }
    }

    /// The pod `target` names: `NAME`, `pod/NAME`, or a workload whose selector picks one.
    static func pod(for target: String, namespace: String, session: Session) async throws -> JSONValue {
        let client = try session.client()
        guard target.contains("/") else { return try await client.get("/api/v1/namespaces/\(namespace)/pods/\(target)") }
        let ref = try await ObjectRef.select([target], session: session)[0]
        if ref.resource.kind == "Pod" { return try await client.get(ref.path) }
        let owner = try await client.get(ref.path)
        guard let labels = owner["spec"]?["selector"]?["matchLabels"]?.objectValue ?? owner["spec"]?["selector"]?.objectValue else {
            throw CommandFailure.error("cannot get the logs from \(ref.resource.kindPrefix): selector is required")
        }
        let selector = labels.keys.sorted().map { "\($0)=\(labels[$0]?.stringValue ?? "")" }.joined(separator: ",")
        let pods = try await client.list("/api/v1/namespaces/\(namespace)/pods", query: ["labelSelector": selector])["items"]?.arrayValue ?? []
        guard let pod = pods.sorted(by: { ($0["metadata"]?["creationTimestamp"]?.stringValue ?? "") < ($1["metadata"]?["creationTimestamp"]?.stringValue ?? "") }).first else {
            throw CommandFailure.error("timed out waiting for the condition")
        }
        return pod
    }
}
