import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl top pods|nodes`: usage from `metrics.k8s.io/v1beta1`.
struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Display resource (CPU/memory) usage", subcommands: [TopPods.self, TopNodes.self])

    /// kubectl's check: the metrics group must be served.
    static func requireMetricsAPI(_ session: Session) async throws {
        let groups = try await session.discovery().serverGroups()["groups"]?.arrayValue ?? []
        guard groups.contains(where: { $0["name"]?.stringValue == "metrics.k8s.io" }) else {
            throw CommandFailure.error("Metrics API not available")
        }
    }

    /// kubectl's top printer ends every cell with a tab, the last one too, so the last column
    /// is padded like the others: an empty cell after it does the same here.
    static func tabTerminated(_ rows: [[String]]) -> [[String]] { rows.map { $0 + [""] } }

    /// `250m` → `250m`; cores and bytes as kubectl prints them (millicores, Mi).
    static func cpu(_ q: String) -> String { "\(Quantity.parse(q)?.milliValue ?? 0)m" }
    static func memory(_ q: String) -> String { "\((Quantity.parse(q)?.value ?? 0) / (1024 * 1024))Mi" }
}

struct TopPods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pod", abstract: "Display resource (CPU/memory) usage of pods", aliases: ["pods", "po"])
    @OptionGroup var global: GlobalOptions
    @Argument var name: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")]) var allNamespaces = false
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: .customLong("no-headers")) var noHeaders = false
    @Flag(name: .customLong("containers")) var containers = false

    func run() async throws {
        try await Session.with(global) { session in
            try await Top.requireMetricsAPI(session)
            let ns = try session.namespace()
            let base = allNamespaces ? "/apis/metrics.k8s.io/v1beta1/pods" : "/apis/metrics.k8s.io/v1beta1/namespaces/\(ns)/pods"
            var items: [JSONValue]
            if let name { items = [try await session.client().get(base + "/" + name)] } else {
                items = try await session.client().list(base, query: selector.map { ["labelSelector": $0] } ?? [:])["items"]?.arrayValue ?? []
            }
            if items.isEmpty {
                // As kubectl: pods without metrics are newly created ones whose usage is not sampled yet.
                let podsPath = allNamespaces ? "/api/v1/pods" : "/api/v1/namespaces/\(ns)/pods"
                let pods = try await session.client().list(podsPath, query: selector.map { ["labelSelector": $0] } ?? [:])
                if !(pods["items"]?.arrayValue ?? []).isEmpty { throw CommandFailure.error("metrics not available yet") }
                Terminal.printError(allNamespaces ? "No resources found" : "No resources found in \(ns) namespace.")
                return
            }
            items.sort { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }
            var rows: [[String]] = noHeaders ? [] : [(allNamespaces ? ["NAMESPACE"] : []) + (containers ? ["POD", "NAME"] : ["NAME"]) + ["CPU(cores)", "MEMORY(bytes)"]]
            for pod in items {
                let podName = pod["metadata"]?["name"]?.stringValue ?? ""
                let prefix = (allNamespaces ? [pod["metadata"]?["namespace"]?.stringValue ?? ""] : []) + [podName]
                let cs = pod["containers"]?.arrayValue ?? []
                if containers {
                    for c in cs {
                        rows.append(prefix + [c["name"]?.stringValue ?? "", Top.cpu(c["usage"]?["cpu"]?.stringValue ?? "0"),
                                              Top.memory(c["usage"]?["memory"]?.stringValue ?? "0")])
                    }
                } else {
                    let cpu = cs.reduce(Int64(0)) { $0 + (Quantity.parse($1["usage"]?["cpu"]?.stringValue ?? "0")?.milliValue ?? 0) }
                    let mem = cs.reduce(Int64(0)) { $0 + (Quantity.parse($1["usage"]?["memory"]?.stringValue ?? "0")?.value ?? 0) }
                    rows.append(prefix + ["\(cpu)m", "\(mem / (1024 * 1024))Mi"])
                }
            }
            Terminal.write(TabWriter.align(Top.tabTerminated(rows)))
        }
    }
}

struct TopNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "node", abstract: "Display resource (CPU/memory) usage of nodes", aliases: ["nodes", "no"])
    @OptionGroup var global: GlobalOptions
    @Argument var name: String?
    @Flag(name: .customLong("no-headers")) var noHeaders = false

    func run() async throws {
        try await Session.with(global) { session in
            try await Top.requireMetricsAPI(session)
            let client = try session.client()
            var metrics = try await client.list("/apis/metrics.k8s.io/v1beta1/nodes")["items"]?.arrayValue ?? []
            if let name { metrics = metrics.filter { $0["metadata"]?["name"]?.stringValue == name } }
            let nodes = try await client.list("/api/v1/nodes")["items"]?.arrayValue ?? []
            var rows: [[String]] = noHeaders ? [] : [["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]]
            for m in metrics.sorted(by: { ($0["metadata"]?["name"]?.stringValue ?? "") < ($1["metadata"]?["name"]?.stringValue ?? "") }) {
                let n = m["metadata"]?["name"]?.stringValue ?? ""
                let node = nodes.first { $0["metadata"]?["name"]?.stringValue == n }
                let cpu = Quantity.parse(m["usage"]?["cpu"]?.stringValue ?? "0")?.milliValue ?? 0
                let mem = Quantity.parse(m["usage"]?["memory"]?.stringValue ?? "0")?.value ?? 0
                let cpuCap = Quantity.parse(node?["status"]?["allocatable"]?["cpu"]?.stringValue ?? "0")?.milliValue ?? 0
                let memCap = Quantity.parse(node?["status"]?["allocatable"]?["memory"]?.stringValue ?? "0")?.value ?? 0
                rows.append([n, "\(cpu)m", cpuCap > 0 ? "\(cpu * 100 / cpuCap)%" : "<unknown>",
                             "\(mem / (1024 * 1024))Mi", memCap > 0 ? "\(mem * 100 / memCap)%" : "<unknown>"])
            }
            Terminal.write(TabWriter.align(Top.tabTerminated(rows)))
        }
    }
}
