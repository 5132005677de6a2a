import Foundation
import Logging

/// Pod networking for the `process` runtime, done as a bridge CNI plugin with host-local IPAM
/// would: one Linux bridge per node holding the pod CIDR's first address as gateway; per pod a
/// named network namespace with a veth pair (host end on the bridge, pod end `eth0`), an IP
/// from the pod CIDR and a default route via the gateway. Each pod's IP, namespace and veth are
/// persisted in its `sandbox.json`, so a restarted kubelet finds its pods and never hands out
/// an address in use. Without root, `ip` or a pod CIDR, pods share the host network.
public actor PodNetwork {
    private let paths: KubeletPaths
    private let nodeName: String
    private let logger: Logger
    private let ipPath = PodNetworkCommand.find("ip")
    private let isRoot = getuid() == 0

    private var ipam: IPAM?
    /// Every pod with a sandbox file, by UID (rebuilt from disk by `configure`).
    private var records: [String: PodNetworkRecord] = [:]
    private var bridgeReady = false
    private var warnedHostNetwork = false
    /// Why the last pod network setup failed (nil once one succeeds), for the Ready condition.
    private var setupError: String?
    /// A podCIDR that was given but cannot be used.
    private var unusableCIDR: String?

    /// setUp/tearDown suspend while `ip` runs; this keeps them one at a time so two calls for a
    /// pod cannot both find no namespace and create two, and IPAM sees a settled table.
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(paths: KubeletPaths, nodeName: String, logger: Logger) {
        self.paths = paths
        self.nodeName = nodeName
        self.logger = logger
    }

    /// Called after node registration with the Node's spec.podCIDR (e.g. "10.244.1.0/24");
    /// nil keeps pods on the host network.
    public func configure(podCIDR: String?) {
        var parsed: IPAM?
        if let podCIDR {
            if let cidr = IPv4CIDR(podCIDR), let table = try? IPAM(cidr: cidr) {
                parsed = table
                unusableCIDR = nil
            } else {
                unusableCIDR = podCIDR
                logger.error("ignoring unusable podCIDR", metadata: ["podCIDR": "\(podCIDR)"])
            }
        }
        if let parsed, parsed.cidr == ipam?.cidr { return }
        ipam = parsed
        bridgeReady = false
        loadRecords()
        if let reason = hostNetworkReason { warnHostNetwork(reason) }
    }

    /// What keeps pod networking from working, for the node's Ready condition; nil when it
    /// works (pods on the host network before a podCIDR is assigned count as working).
    public func readinessProblem() -> String? {
        if let cidr = unusableCIDR { return "the node's podCIDR \(cidr) is not usable" }
        return setupError.map { "pod network setup failed: \($0)" }
    }

    /// Whether pods get their own namespace (root, `ip` available, a podCIDR configured).
    public var isolated: Bool { hostNetworkReason == nil }

    /// Creates or finds (after a kubelet restart: read the sandbox file) the pod's namespace
    /// and IP. Idempotent.
    public func setUp(podUID: String) async throws -> SandboxStatus {
        guard let ip = ipPath, isolated, ipam != nil else {
            warnHostNetwork(hostNetworkReason ?? "")
            return SandboxStatus(podIP: hostIP(), networkNamespacePath: nil)
        }
        await acquire()
        defer { release() }

        // Re-read the file: a previous call or a previous kubelet may have done the work.
        var record: PodNetworkRecord
        if let saved = records[podUID] ?? readRecord(podUID) {
            if try await isIntact(saved, ip: ip) {
                try await ensureBridge(ip: ip)
                records[podUID] = saved
                return status(saved)
            }
            // Half-built, or lost with a host reboot: rebuild, keeping the IP when still ours.
            logger.info("rebuilding pod network", metadata: ["pod": "\(podUID)", "netns": "\(saved.netns)"])
            record = saved
            if !reserve(saved) { record.ip = try allocateIP(podUID) }
        } else {
            record = PodNetworkRecord(podUID: podUID, ip: try allocateIP(podUID),
                                      netns: netnsName(for: podUID), hostVeth: PodNetworkHost.hostVethName(podUID: podUID))
        }

        // Persist before plumbing: a crash in between leaves a record tearDown can clean up.
        do {
            try writeRecord(record)
            records[podUID] = record
            try await ensureBridge(ip: ip)
            // Names derive from the UID, so leftovers of an earlier half-built attempt are this
            // pod's own and go before building anew.
            await removePlumbing(record, ip: ip)
            try await plumb(record, ip: ip)
        } catch {
            await removePlumbing(record, ip: ip)
            forget(podUID)
            // The bridge may be what broke (deleted by hand): check it again next time.
            bridgeReady = false
            setupError = "\(error)"
            throw error
        }
        setupError = nil
        logger.debug("pod network ready", metadata: ["pod": "\(podUID)", "ip": "\(record.ip)", "netns": "\(record.netns)"])
        return status(record)
    }

    /// Removes namespace, veth, IP reservation and the sandbox file. Idempotent, never throws.
    public func tearDown(podUID: String) async {
        await acquire()
        defer { release() }
        let record = records[podUID] ?? readRecord(podUID)
        if let ip = ipPath, isRoot {
            let names = record ?? PodNetworkRecord(podUID: podUID, ip: "", netns: PodNetworkHost.netnsName(podUID: podUID),
                                                   hostVeth: PodNetworkHost.hostVethName(podUID: podUID))
            await removePlumbing(names, ip: ip)
        }
        forget(podUID)
    }

    /// The node's own IPv4 (first non-loopback, non-pod-bridge address; 127.0.0.1 as a last
    /// resort), for status.hostIP and host-network pods.
    public func hostIP() -> String {
        PodNetworkHost.hostIP(excluding: ipam?.cidr)
    }

    /// The node's pod bridge (the service proxy matches pod traffic on it).
    public var bridgeName: String { PodNetworkHost.bridgeName(rootDirectory: paths.root, nodeName: nodeName) }

    /// The IP IPAM holds for the pod (for tests and diagnostics).
    func reservedIP(for podUID: String) -> String? {
        ipam?.address(of: podUID).map(IPv4CIDR.format)
    }

    // MARK: - State

    private var hostNetworkReason: String? {
        if !isRoot { return "the kubelet does not run as root" }
        if ipPath == nil { return "the ip command (iproute2) is not installed" }
        if ipam == nil { return "the node has no usable podCIDR" }
        return nil
    }

    private func warnHostNetwork(_ reason: String) {
        guard !warnedHostNetwork else { return }
        warnedHostNetwork = true
        logger.warning("pods share the host network", metadata: ["reason": "\(reason)"])
    }

    private func acquire() async {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
    }

    /// Hands the turn straight to the next waiter, so `busy` stays true in between.
    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    private func status(_ record: PodNetworkRecord) -> SandboxStatus {
        SandboxStatus(podIP: record.ip, networkNamespacePath: PodNetworkHost.netnsPath(record.netns))
    }

    /// Rebuilds the allocation table from every pod's sandbox file.
    private func loadRecords() {
        records = [:]
        let uids = (try? FileManager.default.contentsOfDirectory(atPath: paths.podsDirectory)) ?? []
        for uid in uids.sorted() {
            guard let record = readRecord(uid) else { continue }
            records[uid] = record
            if ipam != nil, !reserve(record) {
                logger.warning("pod IP outside podCIDR or taken; pod gets a new one on its next setUp",
                               metadata: ["pod": "\(uid)", "ip": "\(record.ip)"])
            }
        }
    }

    private func reserve(_ record: PodNetworkRecord) -> Bool {
        guard let address = IPv4CIDR.parseAddress(record.ip), ipam != nil else { return false }
        return (try? ipam?.reserve(address, podUID: record.podUID)) != nil
    }

    private func allocateIP(_ podUID: String) throws -> String {
        guard var table = ipam else { throw IPAMError.invalidCIDR("none") }
        let address = try table.allocate(podUID: podUID)
        ipam = table
        return IPv4CIDR.format(address)
    }

    private func forget(_ podUID: String) {
        records[podUID] = nil
        ipam?.release(podUID: podUID)
        try? FileManager.default.removeItem(atPath: paths.sandboxFile(podUID))
    }

    private func netnsName(for podUID: String) -> String {
        let name = PodNetworkHost.netnsName(podUID: podUID)
        let taken = records.values.contains { $0.netns == name && $0.podUID != podUID }
        return taken ? PodNetworkHost.uniqueNetnsName(podUID: podUID) : name
    }

    private func readRecord(_ podUID: String) -> PodNetworkRecord? {
        guard let data = FileManager.default.contents(atPath: paths.sandboxFile(podUID)),
              let record = try? JSONDecoder().decode(PodNetworkRecord.self, from: data),
              record.podUID == podUID else { return nil }
        return record
    }

    private func writeRecord(_ record: PodNetworkRecord) throws {
        try FileManager.default.createDirectory(atPath: paths.podDirectory(record.podUID), withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(record).write(to: URL(fileURLWithPath: paths.sandboxFile(record.podUID)), options: .atomic)
    }

    // MARK: - Plumbing

    /// Runs `ip` and throws its stderr when it fails.
    private func ip(_ ip: String, _ arguments: [String]) async throws {
        let result = try await PodNetworkCommand.run(ip, arguments)
        guard result.status == 0 else {
            throw PodNetworkError(command: (["ip"] + arguments).joined(separator: " "), status: result.status, stderr: result.stderr)
        }
    }

    private func query(_ ip: String, _ arguments: [String]) async throws -> CommandResult {
        try await PodNetworkCommand.run(ip, arguments)
    }

    private func isIntact(_ record: PodNetworkRecord, ip: String) async throws -> Bool {
        guard FileManager.default.fileExists(atPath: PodNetworkHost.netnsPath(record.netns)),
              let prefix = ipam?.cidr.prefixLength else { return false }
        let veth = try await query(ip, ["-o", "link", "show", "dev", record.hostVeth])
        guard veth.status == 0, veth.stdout.contains("master \(bridgeName)") else { return false }
        let address = try await query(ip, ["-n", record.netns, "-4", "-o", "addr", "show", "dev", "eth0"])
        return address.status == 0 && address.stdout.contains(" \(record.ip)/\(prefix) ")
    }

    /// Creates the node bridge with the gateway address once per configuration; idempotent, so
    /// a restarted kubelet reuses the bridge it finds.
    private func ensureBridge(ip: String) async throws {
        guard !bridgeReady, let cidr = ipam?.cidr else { return }
        let bridge = bridgeName
        if try await query(ip, ["link", "show", "dev", bridge]).status != 0 {
            try await self.ip(ip, ["link", "add", bridge, "type", "bridge"])
        }
        let gateway = "\(IPv4CIDR.format(cidr.gateway))/\(cidr.prefixLength)"
        // A bridge left by an earlier cluster on this machine (another node name, same CIDR)
        // would hold the same route and swallow our pods' traffic: take the address off it.
        let all = try await query(ip, ["-4", "-o", "addr", "show"])
        for line in all.stdout.split(separator: "\n") where line.contains(" \(gateway) ") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let other = String(fields[1])
            if other != bridge && other.hasPrefix(PodNetworkHost.bridgePrefix) {
                _ = try? await query(ip, ["addr", "del", gateway, "dev", other])
            }
        }
        let addresses = try await query(ip, ["-4", "-o", "addr", "show", "dev", bridge])
        if !addresses.stdout.contains(" \(gateway) ") {
            // A stale address from an earlier podCIDR would route the wrong range here.
            try await self.ip(ip, ["addr", "flush", "dev", bridge])
            try await self.ip(ip, ["addr", "add", gateway, "dev", bridge])
        }
        try await self.ip(ip, ["link", "set", "dev", bridge, "up"])
        if !PodNetworkHost.enableForwarding() {
            logger.warning("could not set net.ipv4.ip_forward=1; pods reach only their own node's bridge")
        }
        let nat = await PodNetworkHost.ensureMasquerade(cidr: cidr, bridge: bridge,
                                                        table: PodNetworkHost.natTableName(rootDirectory: paths.root))
        logger.info("pod bridge ready", metadata: ["bridge": "\(bridge)", "gateway": "\(gateway)", "masquerade": "\(nat)"])
        bridgeReady = true
    }

    /// Two `ip -batch` runs, host side then pod side, instead of a process per step: process
    /// starts were most of a pod's setup time.
    private func plumb(_ record: PodNetworkRecord, ip: String) async throws {
        guard let cidr = ipam?.cidr else { return }
        let ns = record.netns, veth = record.hostVeth
        try await batch(ip, [
            ["netns", "add", ns],
            // Creating the peer straight inside the namespace lets it be called eth0 at once
            // without clashing with the host's own eth0.
            ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns],
            ["link", "set", "dev", veth, "master", bridgeName],
            // A pod reaching itself through a Service comes back on the port it left by (the
            // bridge CNI plugin's hairpinMode); without it the bridge drops the DNATed frame.
            ["link", "set", "dev", veth, "type", "bridge_slave", "hairpin", "on"],
            ["link", "set", "dev", veth, "up"],
        ])
        try await batch(ip, [
            ["link", "set", "dev", "lo", "up"],
            ["addr", "add", "\(record.ip)/\(cidr.prefixLength)", "dev", "eth0"],
            ["link", "set", "dev", "eth0", "up"],
            ["route", "add", "default", "via", IPv4CIDR.format(cidr.gateway), "dev", "eth0"],
        ], namespace: ns)
    }

    /// Runs `commands` in one `ip -batch` (inside `namespace` when given). It stops at the first
    /// that fails ("Command failed -:N" on stderr), and the error names that command.
    private func batch(_ ip: String, _ commands: [[String]], namespace: String? = nil) async throws {
        let options = namespace.map { ["-n", $0] } ?? []
        let script = commands.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n"
        let result = try await PodNetworkCommand.run(ip, options + ["-batch", "-"], input: script)
        guard result.status == 0 else {
            var failed = commands.map { $0.joined(separator: " ") }.joined(separator: "; ")
            if let range = result.stderr.range(of: "Command failed -:"),
               let line = Int(result.stderr[range.upperBound...].prefix { $0.isNumber }), commands.indices.contains(line - 1) {
                failed = commands[line - 1].joined(separator: " ")
            }
            throw PodNetworkError(command: (["ip"] + options).joined(separator: " ") + " " + failed, status: result.status, stderr: result.stderr)
        }
    }

    /// Deleting the host end removes both ends at once (deleting the namespace alone frees its
    /// veth only asynchronously). Errors are expected for parts that are already gone.
    private func removePlumbing(_ record: PodNetworkRecord, ip: String) async {
        // The host's interfaces are listed in sysfs: no `ip` run to learn there is nothing to do.
        if FileManager.default.fileExists(atPath: "/sys/class/net/\(record.hostVeth)") {
            _ = try? await query(ip, ["link", "del", "dev", record.hostVeth])
        }
        if FileManager.default.fileExists(atPath: PodNetworkHost.netnsPath(record.netns)) {
            if let result = try? await query(ip, ["netns", "del", record.netns]), result.status != 0 {
                logger.warning("could not delete pod network namespace",
                               metadata: ["netns": "\(record.netns)", "error": "\(result.stderr)"])
            }
        }
    }
}
