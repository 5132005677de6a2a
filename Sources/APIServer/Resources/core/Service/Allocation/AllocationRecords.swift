import Foundation
import KubeModel

/// The store's word on who holds a cluster IP or node port: one key per held value, created
/// only if absent, as kube-apiserver's IPAddress objects are. Every API server on one store
/// goes through these keys, so two servers can never hand out the same address or port; an
/// in-memory bitmap is only a hint for picking candidates.
struct AllocationRecords: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case ip = "serviceips"
        case nodePort = "servicenodeports"
    }

    /// Which Service holds a value. The uid tells two creates of one name apart, so the
    /// loser's rollback never frees what the winner holds.
    struct Owner: Sendable, Equatable {
        var namespace: String
        var name: String
        var uid: String
    }

    enum Outcome: Sendable, Equatable { case recorded, taken }

    let store: any Store

    static func prefix(_ kind: Kind) -> String { "/registry/ranges/\(kind.rawValue)/" }
    static func key(_ kind: Kind, _ value: String) -> String { prefix(kind) + value }

    static func record(_ kind: Kind, _ value: String, owner: Owner, now: Date) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ServiceAllocation",
            "metadata": ["name": .string(value), "creationTimestamp": .string(Timestamp.format(now))],
            "parentRef": ["group": "", "resource": "services", "namespace": .string(owner.namespace), "name": .string(owner.name),
                          "uid": .string(owner.uid)],
        ]
    }

    static func owner(of record: JSONValue) -> Owner? {
        guard let ref = record["parentRef"], let ns = ref["namespace"]?.stringValue, let name = ref["name"]?.stringValue else { return nil }
        return Owner(namespace: ns, name: name, uid: ref["uid"]?.stringValue ?? "")
    }

    /// Creates the record of `value` for `owner`; `.taken` when another Service holds it.
    /// A record the same owner already holds counts as recorded (a retried write).
    func claim(_ kind: Kind, _ value: String, owner: Owner) async throws -> Outcome {
        let key = Self.key(kind, value)
        do {
            _ = try await store.create(key: key, object: Self.record(kind, value, owner: owner, now: Date()))
            return .recorded
        } catch StoreError.alreadyExists {
            guard let existing = try await store.get(key: key) else { return try await claim(kind, value, owner: owner) }
            return Self.owner(of: existing.object) == owner ? .recorded : .taken
        }
    }

    /// Deletes the record of `value` if `owner` holds it; best effort (a leaked record is
    /// removed by the repair at the next start).
    func free(_ kind: Kind, _ value: String, owner: Owner) async {
        _ = try? await store.delete(key: Self.key(kind, value)) { current in
            guard Self.owner(of: current.object) == owner else {
                throw StoreError.conflict(key: current.key, message: "held by another Service")
            }
        }
    }

    /// Every record of `kind`, in key order.
    func all(_ kind: Kind) async throws -> [StoredObject] {
        var items: [StoredObject] = []
        var after: String?
        var revision: Int64?
        repeat {
            let page = try await store.list(prefix: Self.prefix(kind), startAfter: after, limit: 500, atRevision: revision)
            items += page.items
            revision = page.revision
            after = page.hasMore ? page.items.last?.key : nil
        } while after != nil
        return items
    }

    /// Deletes `record` if it is unchanged since it was read.
    func remove(_ record: StoredObject) async {
        _ = try? await store.delete(key: record.key) { current in
            guard current.revision == record.revision else {
                throw StoreError.conflict(key: record.key, message: "changed since read")
            }
        }
    }
}
