import Foundation
import Logging

/// Stops every pod a kubelet root directory holds, as k3s-killall does for k3s: pods outlive
/// the kubelet by design (a restarted kubelet adopts them), so this is how to end them on
/// purpose. For each pod directory: its containers' processes (SIGKILL to each process group,
/// then whatever is left in its cgroups), its network namespace and veth, its cgroups, and its
/// tmpfs volumes; then the directory itself. The node's NetworkPolicy table and nftables
/// tables go too, and, given the node's name, its pod bridge once nothing is attached. Run it
/// with the kubelet (or `caravel server`) stopped, or that kubelet starts the pods again.
public struct PodReaper: Sendable {
    /// What was done, for the operator.
    public struct Report: Sendable, Equatable {
        public var pods = 0
        public var containersStopped = 0
        public var networkNamespacesRemoved = 0
        public var cgroupsRemoved = 0
        public var tmpfsUnmounted = 0
        /// The node's NetworkPolicy nft table, when it had one.
        public var policyTableRemoved: String?
        /// The kubelet's nftables tables (service proxy, pod masquerade) removed.
        public var nftTablesRemoved = 0
        /// The node's pod bridge, when it was removed.
        public var bridgeRemoved: String?
        /// Things that could not be undone (a busy mount, ...).
        public var problems: [String] = []

        public var summary: String {
            var lines = [
                "pods: \(pods)",
                "containers stopped: \(containersStopped)",
                "network namespaces removed: \(networkNamespacesRemoved)",
                "cgroups removed: \(cgroupsRemoved)",
                "tmpfs mounts unmounted: \(tmpfsUnmounted)",
                "network policy table removed: \(policyTableRemoved ?? "none")",
                "nftables tables removed: \(nftTablesRemoved)",
                "pod bridge removed: \(bridgeRemoved ?? "none")",
            ]
            lines += problems.map { "not done: \($0)" }
            return lines.joined(separator: "\n")
        }
    }

    let paths: KubeletPaths
    /// The node whose pod bridge goes at the end; nil leaves bridges alone.
    let nodeName: String?
    let logger: Logger

    public init(rootDirectory: String, nodeName: String? = nil, logger: Logger) {
        self.paths = KubeletPaths(root: rootDirectory)
        self.nodeName = nodeName
        self.logger = logger
    }

    public func run() async -> Report {
        var report = Report()
        do { report.policyTableRemoved = try await NetworkPolicyTable.removeRecorded(paths: paths) } catch {
            report.problems.append("network policy table: \(error)")
        }
        await removeTables(&report)
        let uids = ((try? FileManager.default.contentsOfDirectory(atPath: paths.podsDirectory)) ?? []).sorted()
        if !uids.isEmpty { await reapPods(uids, &report) }
        // Last: each pod's veth had to go with its namespace first.
        await removeBridge(&report)
        return report
    }

    /// Stops and removes each pod directory's processes, namespace, cgroups and volumes.
    func reapPods(_ uids: [String], _ report: inout Report) async {
        let network = PodNetwork(paths: paths, nodeName: "", logger: logger)
        // The shim is never started here: only records are read and processes stopped.
        let runtime = ProcessRuntime(paths: paths, shimPath: "/nonexistent/caravel-shim", network: network, logger: logger)
        for uid in uids {
            report.pods += 1
            for record in await runtime.listContainers() where record.id.podUID == uid {
                if case .running = record.state { report.containersStopped += 1 }
            }
            let hadNetns = Self.networkNamespace(of: uid, paths: paths)
            let cgroupDirs = runtime.cgroups.podDirectories(uid).filter { FileManager.default.fileExists(atPath: $0) }
            do { try await runtime.removeSandbox(podUID: uid) } catch { report.problems.append("pod \(uid): \(error)") }
            for id in runtime.containerIDs(podUID: uid) { await runtime.removeContainer(id) }
            if let netns = hadNetns, !FileManager.default.fileExists(atPath: PodNetworkHost.netnsPath(netns)) {
                report.networkNamespacesRemoved += 1
            }
            report.cgroupsRemoved += cgroupDirs.filter { !FileManager.default.fileExists(atPath: $0) }.count
            let mounts = Tmpfs.mountPoints(under: paths.podDirectory(uid))
            if Tmpfs.unmountAll(under: paths.podDirectory(uid)) {
                report.tmpfsUnmounted += mounts.count
                try? FileManager.default.removeItem(atPath: paths.podDirectory(uid))
            } else {
                report.problems.append("pod \(uid): a volume stays mounted under \(paths.podDirectory(uid))")
            }
        }
    }

    /// The node's pod bridge, once no interface is attached to it (each pod's veth went with
    /// its namespace); k3s-killall removes its bridge the same way.
    func removeBridge(_ report: inout Report) async {
        guard let nodeName, let ip = PodNetworkCommand.find("ip") else { return }
        let bridge = PodNetworkHost.bridgeName(rootDirectory: paths.root, nodeName: nodeName)
        do {
            guard try await PodNetworkCommand.run(ip, ["-o", "link", "show", "dev", bridge]).status == 0 else { return }
            let members = try await PodNetworkCommand.run(ip, ["-o", "link", "show", "master", bridge])
            // Something still attached is not this reaper's to judge: the bridge stays.
            guard members.status == 0, members.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
            let deleted = try await PodNetworkCommand.run(ip, ["link", "del", "dev", bridge])
            if deleted.status == 0 { report.bridgeRemoved = bridge } else {
                report.problems.append("bridge \(bridge): \(deleted.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        } catch {
            report.problems.append("bridge \(bridge): \(error)")
        }
    }

    /// The service proxy's and the pod masquerade's tables of this root (nothing else's).
    func removeTables(_ report: inout Report) async {
        // Only root makes them (and may list them).
        guard getuid() == 0 else { return }
        for table in [ProxyHost.tableName(rootDirectory: paths.root), PodNetworkHost.natTableName(rootDirectory: paths.root)] {
            switch await ProxyHost.deleteTable(table) {
            case .deleted: report.nftTablesRemoved += 1
            case .absent: break
            case .failed(let why): report.problems.append("nft table \(table): \(why)")
            }
        }
    }

    /// The pod's network namespace name, when one exists for it now.
    static func networkNamespace(of uid: String, paths: KubeletPaths) -> String? {
        let candidates = [PodNetworkHost.netnsName(podUID: uid), PodNetworkHost.uniqueNetnsName(podUID: uid)]
        let recorded = (try? Data(contentsOf: URL(fileURLWithPath: paths.sandboxFile(uid))))
            .flatMap { try? JSONDecoder().decode(PodNetworkRecord.self, from: $0) }.map(\.netns)
        return ([recorded].compactMap { $0 } + candidates).first { FileManager.default.fileExists(atPath: PodNetworkHost.netnsPath($0)) }
    }
}
