import EtcdAPI
import Foundation
import GRPCCore
import KubeModel

/// Writes as compare-and-swap transactions on the key's `mod_revision`, as
/// k8s.io/apiserver's etcd3 store does: the compare makes a write apply only to the version
/// of the object the caller decided on; the failure branch reads the key, so a lost compare
/// costs no extra round trip.
extension EtcdStore {
    public func create(key: String, object: JSONValue) async throws -> StoredObject {
        let etcdKey = layout.etcdKey(key)
        var put = Etcdserverpb_PutRequest()
        put.key = etcdKey
        put.value = Self.encodeValue(object)
        while true {
            let response: Etcdserverpb_TxnResponse
            do {
                response = try await txn(etcdKey, ifModRevision: 0, then: .requestPut(put))
            } catch is EtcdClients.AmbiguousWrite {
                // Ours if the key holds exactly our bytes (they carry a fresh uid); absent: not applied.
                guard let kv = try await rawGet(etcdKey) else { continue }
                guard kv.value == put.value else { throw StoreError.alreadyExists(key: key) }
                return StoredObject(key: key, revision: kv.modRevision, object: Self.stamped(object, revision: kv.modRevision))
            }
            guard response.succeeded else { throw StoreError.alreadyExists(key: key) }
            let revision = response.header.revision
            return StoredObject(key: key, revision: revision, object: Self.stamped(object, revision: revision))
        }
    }

    public func update(key: String, _ transform: @escaping @Sendable (StoredObject) throws -> JSONValue?) async throws -> StoredObject {
        guard var current = try await get(key: key) else { throw StoreError.notFound(key: key) }
        while true {
            guard let updated = try transform(current) else { return current }
            switch try await put(updated, key: key, ifAt: current.revision) {
            case .stored(let stored):
                return stored
            case .lost(let newer):
                // Someone wrote first: decide again on what they wrote.
                guard let newer else { throw StoreError.notFound(key: key) }
                current = newer
            }
        }
    }

    /// One transaction, no read before it: the caller read `current` itself.
    public func replace(key: String, current: StoredObject, with object: JSONValue) async throws -> StoredObject {
        switch try await put(object, key: key, ifAt: current.revision) {
        case .stored(let stored): return stored
        case .lost(let newer): throw newer == nil ? StoreError.notFound(key: key) : StoreError.revisionMoved(key: key)
        }
    }

    /// What a conditional put came to: stored, or lost to a newer write (nil: the key is gone).
    private enum PutOutcome {
        case stored(StoredObject)
        case lost(StoredObject?)
    }

    /// Puts `object` if the key's `mod_revision` is still `revision`.
    private func put(_ object: JSONValue, key: String, ifAt revision: Int64) async throws -> PutOutcome {
        let etcdKey = layout.etcdKey(key)
        var put = Etcdserverpb_PutRequest()
        put.key = etcdKey
        put.value = Self.encodeValue(object)
        while true {
            let response: Etcdserverpb_TxnResponse
            do {
                response = try await txn(etcdKey, ifModRevision: revision, then: .requestPut(put))
            } catch is EtcdClients.AmbiguousWrite {
                // Unchanged since the read: not applied, so try again. Changed: by this write,
                // or by another that decided the same or other bytes from the same version; a
                // read-modify-write cannot tell which, so the caller hears that the outcome is
                // unknown rather than a success that may not be its own.
                guard let kv = try await rawGet(etcdKey) else { throw StoreError.notFound(key: key) }
                guard kv.modRevision == revision else {
                    throw StoreError.io("the outcome of the update of \(key) is unknown: the etcd connection failed before its answer; read it again")
                }
                continue
            }
            if response.succeeded {
                let stored = response.header.revision
                return .stored(StoredObject(key: key, revision: stored, object: Self.stamped(object, revision: stored)))
            }
            return .lost(try readBack(response, key: key))
        }
    }

    public func delete(key: String, precondition: @escaping @Sendable (StoredObject) throws -> Void) async throws -> StoredObject {
        let etcdKey = layout.etcdKey(key)
        guard var current = try await get(key: key) else { throw StoreError.notFound(key: key) }
        while true {
            try precondition(current)
            var delete = Etcdserverpb_DeleteRangeRequest()
            delete.key = etcdKey
            let response: Etcdserverpb_TxnResponse
            do {
                response = try await txn(etcdKey, ifModRevision: current.revision, then: .requestDeleteRange(delete))
            } catch is EtcdClients.AmbiguousWrite {
                // Gone: taken as this delete's (its revision is then the read's).
                guard let kv = try await rawGet(etcdKey) else {
                    let revision = try await currentRevision()
                    return StoredObject(key: key, revision: revision, object: Self.stamped(current.object, revision: revision))
                }
                current = try decode(kv, key: key)
                continue
            }
            if response.succeeded {
                let revision = response.header.revision
                return StoredObject(key: key, revision: revision, object: Self.stamped(current.object, revision: revision))
            }
            guard let newer = try readBack(response, key: key) else { throw StoreError.notFound(key: key) }
            current = newer
        }
    }

    /// One transaction: `operation` if the key's `mod_revision` is `revision`, else a read of it.
    private func txn(_ etcdKey: Data, ifModRevision revision: Int64, then operation: Etcdserverpb_RequestOp.OneOf_Request)
        async throws -> Etcdserverpb_TxnResponse
    {
        var compare = Etcdserverpb_Compare()
        compare.key = etcdKey
        compare.target = .mod
        compare.result = .equal
        compare.modRevision = revision
        var success = Etcdserverpb_RequestOp()
        success.request = operation
        var read = Etcdserverpb_RangeRequest()
        read.key = etcdKey
        var failure = Etcdserverpb_RequestOp()
        failure.request = .requestRange(read)
        var request = Etcdserverpb_TxnRequest()
        request.compare = [compare]
        request.success = [success]
        request.failure = [failure]
        return try await mapErrors {
            try await clients.write { try await Etcdserverpb_KV.Client(wrapping: $0).txn(request, options: EtcdClients.options) }
        }
    }

    /// The key as etcd holds it now.
    private func rawGet(_ etcdKey: Data) async throws -> Mvccpb_KeyValue? {
        var request = Etcdserverpb_RangeRequest()
        request.key = etcdKey
        return try await range(request).kvs.first
    }

    /// The object the failure branch read, or nil when the key is gone.
    private func readBack(_ response: Etcdserverpb_TxnResponse, key: String) throws -> StoredObject? {
        guard let kv = response.responses.first?.responseRange.kvs.first else { return nil }
        return try decode(kv, key: key)
    }

    /// Compacts etcd's history: revisions up to and including `revision` can no longer be
    /// read or watched from (etcd keeps the revision it compacts at, so this asks for the
    /// next one).
    public func compact(through revision: Int64) async throws {
        var request = Etcdserverpb_CompactionRequest()
        request.revision = revision + 1
        request.physical = false
        _ = try await mapErrors {
            try await clients.call { try await Etcdserverpb_KV.Client(wrapping: $0).compact(request, options: EtcdClients.options) }
        }
    }
}
