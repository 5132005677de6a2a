import Foundation
import KubeModel

/// Claiming one value: the bitmap proposes, the store's create-if-absent decides. A value
/// the store says is taken stays marked in the bitmap; when the bitmap runs out it is rebuilt
/// from the store's records once, since other servers may have freed values meanwhile.
extension ServiceAllocations {
    func claimNextIP(owner: AllocationRecords.Owner) async throws(APIError) -> String {
        try await claimNext(.ip, what: "a serviceIP", owner: owner, next: { $0.ips.allocateNext() }, render: { $0 })
    }

    func claimNextPort(owner: AllocationRecords.Owner) async throws(APIError) -> Int {
        try await claimNext(.nodePort, what: "a nodePort", owner: owner, next: { $0.ports.allocateNext() }, render: { String($0) })
    }

    private func claimNext<Value: Sendable>(_ kind: AllocationRecords.Kind, what: String, owner: AllocationRecords.Owner,
                                  next: (inout State) -> Value?, render: (Value) -> String) async throws(APIError) -> Value {
        var resynced = false
        while true {
            guard let value = state.withLock({ next(&$0) }) else {
                if resynced { throw APIError.internalError("failed to allocate \(what): range is full") }
                try await resyncFromRecords()
                resynced = true
                continue
            }
            if try await record(kind, render(value), owner: owner) { return value }
        }
    }

    /// Takes a requested address: in range (422 otherwise) and held by no one in the store.
    /// The bitmap is not asked whether it is free: another server may have freed it.
    func claimIP(_ ip: String, owner: AllocationRecords.Owner, def: ResourceDefinition, name: String) async throws(APIError) {
        let outcome = state.withLock { $0.ips.allocate(ip) }
        var detail = ""
        if outcome == .outOfRange {
            detail = "the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(range)"
        } else if try await !record(.ip, ip, owner: owner, markedHere: outcome == .allocated, fallback: outcome == .taken) {
            detail = "provided IP is already allocated"
        } else {
            return
        }
        throw APIError.invalid(def, name, [.invalid("spec.clusterIPs", "[]string{\"\(ip)\"}", "failed to allocate IP \(ip): \(detail)")])
    }

    func claimPort(_ port: Int, index: Int, owner: AllocationRecords.Owner, def: ResourceDefinition, name: String) async throws(APIError) {
        let (outcome, bounds) = state.withLock { ($0.ports.allocate(port), $0.ports.range) }
        var detail = ""
        if outcome == .outOfRange {
            detail = "provided port is not in the valid range. The range of valid ports is \(bounds.lowerBound)-\(bounds.upperBound)"
        } else if try await !record(.nodePort, String(port), owner: owner, markedHere: outcome == .allocated, fallback: outcome == .taken) {
            detail = "provided port is already allocated"
        } else {
            return
        }
        throw APIError.invalid(def, name, [.invalid("spec.ports[\(index)].nodePort", String(port), detail)])
    }

    /// Writes the record of a value the bitmap holds; false when another Service holds it.
    /// Without a store (before the restore) the bitmap's answer stands: `fallback` is
    /// whether it said taken. A store error undoes a mark made for this claim.
    private func record(_ kind: AllocationRecords.Kind, _ value: String, owner: AllocationRecords.Owner,
                        markedHere: Bool = true, fallback: Bool = false) async throws(APIError) -> Bool {
        guard let records else { return !fallback }
        do {
            return try await records.claim(kind, value, owner: owner) == .recorded
        } catch {
            if markedHere { unmark(kind, value) }
            throw APIError.internalError("failed to record the allocation of \(value): \(error)")
        }
    }

    private func unmark(_ kind: AllocationRecords.Kind, _ value: String) {
        state.withLock { st in
            switch kind {
            case .ip: st.ips.release(value)
            case .nodePort: if let p = Int(value) { st.ports.release(p) }
            }
        }
    }

    /// Rebuilds the bitmaps from the store's records (what every server has claimed).
    func resyncFromRecords() async throws(APIError) {
        guard let records else { return }
        let ips: [StoredObject]
        let ports: [StoredObject]
        do {
            ips = try await records.all(.ip)
            ports = try await records.all(.nodePort)
        } catch {
            throw APIError.internalError("failed to read the allocation records: \(error)")
        }
        state.withLock { st in
            var fresh = State(ips: ServiceIPAllocator(range: st.ips.range), ports: NodePortAllocator(range: st.ports.range), records: st.records)
            for r in ips { if let ip = r.object.name { _ = fresh.ips.allocate(ip) } }
            for r in ports { if let p = r.object.name.flatMap({ Int($0) }) { _ = fresh.ports.allocate(p) } }
            st = fresh
        }
    }
}
