import Foundation
import KubeModel
import Synchronization

/// Cluster IPs and node ports held by Services. The store holds the truth (one record per
/// value, created only if absent: `AllocationRecords`), so several API servers on one store
/// never hand out a value twice; each server keeps a bitmap of what it knows is held to pick
/// candidates quickly. A write reserves before it is stored and rolls back if the store
/// refuses it; a delete frees after it commits.
public final class ServiceAllocations: Sendable {
    struct State: Sendable {
        var ips: ServiceIPAllocator
        var ports: NodePortAllocator
        /// Set by `Registry.restoreServiceAllocations`; until then only the bitmaps count.
        var records: AllocationRecords?
    }

    /// What one write reserved and what it frees once committed.
    struct Ticket: Sendable {
        var owner: AllocationRecords.Owner
        var ips: [String] = []
        var ports: [Int] = []
        var freedIPs: [String] = []
        var freedPorts: [Int] = []
    }

    let state: Mutex<State>

    /// The defaults: 10.96.0.0/12 and 30000-32767.
    public static let defaultRange = ServiceIPRange(base: 0x0A60_0000, prefixLength: 12)
    public static let defaultNodePorts = 30000...32767

    public init(range: ServiceIPRange = ServiceAllocations.defaultRange, nodePorts: ClosedRange<Int> = ServiceAllocations.defaultNodePorts) {
        state = Mutex(State(ips: ServiceIPAllocator(range: range), ports: NodePortAllocator(range: nodePorts)))
    }

    /// The service CIDR in use.
    public var range: ServiceIPRange { state.withLock { $0.ips.range } }

    /// Addresses and node ports this server knows to be held.
    public var counts: (ips: Int, ports: Int) { state.withLock { ($0.ips.allocatedCount, $0.ports.allocatedCount) } }

    public func isAllocated(ip: String) -> Bool { state.withLock { $0.ips.isAllocated(ip) } }
    public func isAllocated(nodePort: Int) -> Bool { state.withLock { $0.ports.isAllocated(nodePort) } }

    var records: AllocationRecords? { state.withLock { $0.records } }

    /// Cluster IPs and node ports a stored Service holds.
    static func held(_ svc: JSONValue) -> (ips: [String], ports: [Int]) {
        let spec = svc["spec"] ?? .object([:])
        var ips: [String] = []
        if spec["type"]?.stringValue != "ExternalName" {
            ips = (spec["clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
            if ips.isEmpty, let ip = spec["clusterIP"]?.stringValue { ips = [ip] }
            ips = ips.filter { !$0.isEmpty && $0 != "None" }
        }
        let ports = (spec["ports"]?.arrayValue ?? []).compactMap { $0["nodePort"]?.intValue }.map(Int.init).filter { $0 > 0 }
        return (ips, ports)
    }

    static func owner(_ object: JSONValue, name: String) -> AllocationRecords.Owner {
        AllocationRecords.Owner(namespace: object.namespace ?? "", name: object.name ?? name, uid: object.uid ?? "")
    }

    /// Fills and reserves what a Service create or update needs beyond what `old` holds:
    /// a cluster IP unless headless or ExternalName, node ports for NodePort and
    /// LoadBalancer. Requested values must be free and in range (422 otherwise). Nil for
    /// an object without a spec.
    func reserve(_ object: inout JSONValue, old: JSONValue?, def: ResourceDefinition, name: String) async throws(APIError) -> Ticket? {
        guard var spec = object["spec"], spec.objectValue != nil else { return nil }
        let previous: (ips: [String], ports: [Int]) = old.map(Self.held) ?? ([], [])
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        var ticket = Ticket(owner: Self.owner(object, name: name))
        do {
            let clusterIP = spec["clusterIP"]?.stringValue ?? ""
            if type != "ExternalName" && clusterIP != "None" {
                if clusterIP.isEmpty {
                    let ip = try await claimNextIP(owner: ticket.owner)
                    ticket.ips.append(ip)
                    spec["clusterIP"] = .string(ip)
                    spec["clusterIPs"] = [.string(ip)]
                } else if !previous.ips.contains(clusterIP) {
                    try await claimIP(clusterIP, owner: ticket.owner, def: def, name: name)
                    ticket.ips.append(clusterIP)
                }
            }
            let needsPorts = type == "NodePort" || (type == "LoadBalancer" && spec["allocateLoadBalancerNodePorts"]?.boolValue != false)
            var kept = Set<Int>()
            var ports = spec["ports"]?.arrayValue ?? []
            for i in ports.indices {
                let requested = ports[i]["nodePort"]?.intValue.map(Int.init) ?? 0
                if requested == 0 {
                    guard needsPorts else { continue }
                    let port = try await claimNextPort(owner: ticket.owner)
                    ticket.ports.append(port)
                    ports[i]["nodePort"] = .int(Int64(port))
                } else if previous.ports.contains(requested) && !kept.contains(requested) {
                    kept.insert(requested)
                } else {
                    try await claimPort(requested, index: i, owner: ticket.owner, def: def, name: name)
                    ticket.ports.append(requested)
                }
            }
            if spec["ports"] != nil { spec["ports"] = .array(ports) }
        } catch {
            await rollback(ticket)
            throw error
        }
        let now = Self.held(["spec": spec])
        ticket.freedIPs = previous.ips.filter { !now.ips.contains($0) }
        ticket.freedPorts = previous.ports.filter { !now.ports.contains($0) }
        object["spec"] = spec
        return ticket
    }

    /// Undoes a reservation whose write did not commit.
    func rollback(_ ticket: Ticket) async {
        await free(ips: ticket.ips, ports: ticket.ports, owner: ticket.owner)
    }

    /// Frees what a committed update gave up.
    func commit(_ ticket: Ticket) async {
        await free(ips: ticket.freedIPs, ports: ticket.freedPorts, owner: ticket.owner)
    }

    /// Frees what a deleted Service held.
    func release(_ object: JSONValue) async {
        let held = Self.held(object)
        await free(ips: held.ips, ports: held.ports, owner: Self.owner(object, name: ""))
    }

    private func free(ips: [String], ports: [Int], owner: AllocationRecords.Owner) async {
        if let records {
            for ip in ips { await records.free(.ip, ip, owner: owner) }
            for port in ports { await records.free(.nodePort, String(port), owner: owner) }
        }
        state.withLock { st in
            for ip in ips { st.ips.release(ip) }
            for port in ports { st.ports.release(port) }
        }
    }
}
