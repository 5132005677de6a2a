import Foundation
import KubeModel
import Synchronization

/// Cluster IPs and node ports held by Services, as kube-apiserver's service registry keeps
/// them: reserved under one lock before the store write (and rolled back if that write
/// fails), released after a delete commits, rebuilt from the stored Services before serving.
public final class ServiceAllocations: Sendable {
    struct State: Sendable {
        var ips: ServiceIPAllocator
        var ports: NodePortAllocator
    }

    /// What one write reserved and what it frees once committed.
    struct Ticket: Sendable {
        var ips: [String] = []
        var ports: [Int] = []
        var freedIPs: [String] = []
        var freedPorts: [Int] = []
    }

    private let state: Mutex<State>

    /// The defaults: 10.96.0.0/12 and 30000-32767.
    public static let defaultRange = ServiceIPRange(base: 0x0A60_0000, prefixLength: 12)
    public static let defaultNodePorts = 30000...32767

    public init(range: ServiceIPRange = ServiceAllocations.defaultRange, nodePorts: ClosedRange<Int> = ServiceAllocations.defaultNodePorts) {
        state = Mutex(State(ips: ServiceIPAllocator(range: range), ports: NodePortAllocator(range: nodePorts)))
    }

    /// The service CIDR in use.
    public var range: ServiceIPRange { state.withLock { $0.ips.range } }

    /// Addresses and node ports currently held.
    public var counts: (ips: Int, ports: Int) { state.withLock { ($0.ips.allocatedCount, $0.ports.allocatedCount) } }

    public func isAllocated(ip: String) -> Bool { state.withLock { $0.ips.isAllocated(ip) } }
    public func isAllocated(nodePort: Int) -> Bool { state.withLock { $0.ports.isAllocated(nodePort) } }

    /// Replaces everything with what `services` hold (what kube-apiserver's repair loop
    /// restores at start).
    public func reset(range: ServiceIPRange, nodePorts: ClosedRange<Int>, services: [JSONValue]) {
        var fresh = State(ips: ServiceIPAllocator(range: range), ports: NodePortAllocator(range: nodePorts))
        for svc in services {
            let held = Self.held(svc)
            for ip in held.ips { _ = fresh.ips.allocate(ip) }
            for port in held.ports { _ = fresh.ports.allocate(port) }
        }
        state.withLock { $0 = fresh }
    }

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

    /// Fills and reserves what a Service create or update needs beyond what `old` holds:
    /// a cluster IP unless headless or ExternalName, node ports for NodePort and
    /// LoadBalancer. Requested values must be free and in range (422 otherwise). Nil for
    /// an object without a spec.
    func reserve(_ object: inout JSONValue, old: JSONValue?, def: ResourceDefinition, name: String) throws(APIError) -> Ticket? {
        guard var spec = object["spec"], spec.objectValue != nil else { return nil }
        let previous: (ips: [String], ports: [Int]) = old.map(Self.held) ?? ([], [])
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        let result: Result<Ticket, APIError> = state.withLock { st in
            var ticket = Ticket()
            func fail(_ e: APIError) -> Result<Ticket, APIError> {
                for ip in ticket.ips { st.ips.release(ip) }
                for p in ticket.ports { st.ports.release(p) }
                return .failure(e)
            }
            let clusterIP = spec["clusterIP"]?.stringValue ?? ""
            if type != "ExternalName" && clusterIP != "None" {
                if clusterIP.isEmpty {
                    guard let ip = st.ips.allocateNext() else {
                        return fail(.internalError("failed to allocate a serviceIP: range is full"))
                    }
                    ticket.ips.append(ip)
                    spec["clusterIP"] = .string(ip)
                    spec["clusterIPs"] = [.string(ip)]
                } else if !previous.ips.contains(clusterIP) {
                    let outcome = st.ips.allocate(clusterIP)
                    guard outcome == .allocated else {
                        let detail = outcome == .taken ? "provided IP is already allocated"
                            : "the provided IP (\(clusterIP)) is not in the valid range. The range of valid IPs is \(st.ips.range)"
                        return fail(.invalid(def, name, [.invalid("spec.clusterIPs", "[]string{\"\(clusterIP)\"}",
                                                                  "failed to allocate IP \(clusterIP): \(detail)")]))
                    }
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
                    guard let p = st.ports.allocateNext() else {
                        return fail(.internalError("failed to allocate a nodePort: range is full"))
                    }
                    ticket.ports.append(p)
                    ports[i]["nodePort"] = .int(Int64(p))
                } else if previous.ports.contains(requested) && !kept.contains(requested) {
                    kept.insert(requested)
                } else {
                    let outcome = st.ports.allocate(requested)
                    guard outcome == .allocated else {
                        let detail = outcome == .taken ? "provided port is already allocated"
                            : "provided port is not in the valid range. The range of valid ports is \(st.ports.range.lowerBound)-\(st.ports.range.upperBound)"
                        return fail(.invalid(def, name, [.invalid("spec.ports[\(i)].nodePort", String(requested), detail)]))
                    }
                    ticket.ports.append(requested)
                }
            }
            if spec["ports"] != nil { spec["ports"] = .array(ports) }
            let now = Self.held(["spec": spec])
            ticket.freedIPs = previous.ips.filter { !now.ips.contains($0) }
            ticket.freedPorts = previous.ports.filter { !now.ports.contains($0) }
            return .success(ticket)
        }
        object["spec"] = spec
        return try result.get()
    }

    /// Undoes a reservation whose write did not commit.
    func rollback(_ ticket: Ticket) {
        state.withLock { st in
            for ip in ticket.ips { st.ips.release(ip) }
            for p in ticket.ports { st.ports.release(p) }
        }
    }

    /// Frees what a committed update gave up.
    func commit(_ ticket: Ticket) {
        state.withLock { st in
            for ip in ticket.freedIPs { st.ips.release(ip) }
            for p in ticket.freedPorts { st.ports.release(p) }
        }
    }

    /// Frees what a deleted Service held.
    func release(_ object: JSONValue) {
        let held = Self.held(object)
        state.withLock { st in
            for ip in held.ips { st.ips.release(ip) }
            for p in held.ports { st.ports.release(p) }
        }
    }
}

extension Registry {
    /// Rebuilds the Service allocations from the stored Services; run before serving, so a
    /// restart never hands out an address or port that a Service already holds.
    public func restoreServiceAllocations(range: ServiceIPRange = ServiceAllocations.defaultRange,
                                          nodePorts: ClosedRange<Int> = ServiceAllocations.defaultNodePorts) async throws {
        guard let services = catalog.strategy(group: "", plural: "services") else { return }
        let prefix = ResourceCatalog.keyPrefix(services.definition, namespace: nil)
        var objects: [JSONValue] = []
        var after: String?
        var revision: Int64?
        repeat {
            let page = try await store.list(prefix: prefix, startAfter: after, limit: 500, atRevision: revision)
            objects += page.items.map(\.object)
            revision = page.revision
            after = page.hasMore ? page.items.last?.key : nil
        } while after != nil
        environment.serviceAllocations.reset(range: range, nodePorts: nodePorts, services: objects)
    }
}
