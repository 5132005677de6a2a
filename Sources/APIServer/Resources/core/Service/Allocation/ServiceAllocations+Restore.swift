import Foundation
import KubeModel

/// The start-up repair, as kube-apiserver's allocation repair loop: every value a stored
/// Service holds gets its record (a store written before records existed, or a crash
/// between a record and its Service), records whose Service does not hold them are removed once older
/// than a grace period (a claim whose Service write is still in flight on another server
/// is younger), and the bitmap is rebuilt from what remains.
extension ServiceAllocations {
    func restore(range: ServiceIPRange, nodePorts: ClosedRange<Int>, services: [JSONValue], records: AllocationRecords,
                 orphanGrace: TimeInterval, now: Date = Date()) async throws {
        var holders: [AllocationRecords.Kind: [String: AllocationRecords.Owner]] = [.ip: [:], .nodePort: [:]]
        for svc in services {
            let owner = Self.owner(svc, name: "")
            let held = Self.held(svc)
            for ip in held.ips { holders[.ip, default: [:]][ip] = owner }
            for port in held.ports { holders[.nodePort, default: [:]][String(port)] = owner }
        }
        var fresh = State(ips: ServiceIPAllocator(range: range), ports: NodePortAllocator(range: nodePorts), records: records)
        for kind in AllocationRecords.Kind.allCases {
            let wanted = holders[kind] ?? [:]
            var recorded = Set<String>()
            for record in try await records.all(kind) {
                guard let value = record.object.name else { continue }
                let owner = AllocationRecords.owner(of: record.object)
                let created = record.object[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse) ?? .distantPast
                if wanted[value] != owner && now.timeIntervalSince(created) >= orphanGrace {
                    await records.remove(record)
                    continue
                }
                recorded.insert(value)
            }
            for (value, owner) in wanted where !recorded.contains(value) {
                _ = try await records.claim(kind, value, owner: owner)
                recorded.insert(value)
            }
            for value in recorded {
                switch kind {
                case .ip: _ = fresh.ips.allocate(value)
                case .nodePort: if let p = Int(value) { _ = fresh.ports.allocate(p) }
                }
            }
        }
        state.withLock { $0 = fresh }
    }
}

extension Registry {
    /// Rebuilds the Service allocations from the stored Services and the allocation records;
    /// run before serving, so a restart never hands out an address or port that a Service
    /// already holds. From then on every claim goes through the store's records.
    public func restoreServiceAllocations(range: ServiceIPRange = ServiceAllocations.defaultRange,
                                          nodePorts: ClosedRange<Int> = ServiceAllocations.defaultNodePorts,
                                          orphanGrace: TimeInterval = 120) async throws {
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
        try await environment.serviceAllocations.restore(range: range, nodePorts: nodePorts, services: objects,
                                                         records: AllocationRecords(store: store), orphanGrace: orphanGrace)
    }
}
