import Foundation
import KubeModel

/// What a leader-election lock records (client-go's `LeaderElectionRecord`), stored in the
/// spec of a coordination.k8s.io/v1 Lease.
public struct LeaderElectionRecord: Sendable, Equatable {
    /// Who holds the lease; empty once released.
    public var holderIdentity: String
    /// How long the holder claims it for after `renewTime`.
    public var leaseDurationSeconds: Int
    /// When the current holder acquired it.
    public var acquireTime: Date?
    /// When the holder last renewed it.
    public var renewTime: Date?
    /// How many times the lease changed hands.
    public var leaseTransitions: Int

    /// A record with the given fields.
    public init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: Date? = nil, renewTime: Date? = nil,
                leaseTransitions: Int = 0) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }

    /// The record read from a Lease's `spec`.
    public init(leaseSpec spec: JSONValue?) {
        func time(_ key: String) -> Date? { spec?[key]?.stringValue.flatMap(Timestamp.parse) }
        self.init(holderIdentity: spec?["holderIdentity"]?.stringValue ?? "",
                  leaseDurationSeconds: Int(spec?["leaseDurationSeconds"]?.intValue ?? 0),
                  acquireTime: time("acquireTime"), renewTime: time("renewTime"),
                  leaseTransitions: Int(spec?["leaseTransitions"]?.intValue ?? 0))
    }

    /// The Lease `spec` holding this record (times as MicroTime).
    public var leaseSpec: JSONValue {
        var spec: JSONValue = ["holderIdentity": .string(holderIdentity),
                               "leaseDurationSeconds": .int(Int64(leaseDurationSeconds)),
                               "leaseTransitions": .int(Int64(leaseTransitions))]
        if let acquireTime { spec["acquireTime"] = .string(Timestamp.formatMicro(acquireTime)) }
        if let renewTime { spec["renewTime"] = .string(Timestamp.formatMicro(renewTime)) }
        return spec
    }
}

/// Where a leader election keeps its record. Writes are optimistic: `update` must fail when
/// `version` is no longer current, so two candidates can never both win one round.
public protocol LeaseLock: Sendable {
    /// The record and its version, or `nil` when there is no lock object yet.
    func get() async throws -> (record: LeaderElectionRecord, version: String)?
    /// Creates the lock object; fails if it already exists. Answers the new version.
    func create(_ record: LeaderElectionRecord) async throws -> String
    /// Replaces the record if it is still at `version`. Answers the new version.
    func update(_ record: LeaderElectionRecord, version: String) async throws -> String
}

/// A `LeaseLock` on a coordination.k8s.io/v1 Lease through the API server.
public struct RESTLeaseLock: LeaseLock {
    let client: KubeRESTClient
    let namespace: String
    let name: String

    static let leases = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases")

    /// A lock on Lease `namespace/name`.
    public init(client: KubeRESTClient, namespace: String, name: String) {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    public func get() async throws -> (record: LeaderElectionRecord, version: String)? {
        do {
            let lease = try await client.get(Self.leases.inNamespace(namespace).named(name).path)
            return (LeaderElectionRecord(leaseSpec: lease["spec"]), lease.resourceVersion ?? "")
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }

    public func create(_ record: LeaderElectionRecord) async throws -> String {
        let created = try await client.create(Self.leases.inNamespace(namespace).path, lease(record, version: nil))
        return created.resourceVersion ?? ""
    }

    public func update(_ record: LeaderElectionRecord, version: String) async throws -> String {
        let updated = try await client.update(Self.leases.inNamespace(namespace).named(name).path, lease(record, version: version))
        return updated.resourceVersion ?? ""
    }

    private func lease(_ record: LeaderElectionRecord, version: String?) -> JSONValue {
        var meta: JSONValue = ["name": .string(name), "namespace": .string(namespace)]
        // The precondition that makes the write optimistic: 409 if someone wrote in between.
        if let version { meta["resourceVersion"] = .string(version) }
        return ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": record.leaseSpec]
    }
}
