import Foundation
import KubeClient
import KubeModel
import Logging

/// The kubelet's node lease: `kube-node-lease/<node>`, renewed every `interval` so the node
/// lifecycle controller knows the node is alive without a full status post. The last Lease
/// written is kept and updated in place; a conflict (someone else wrote it) re-reads it and
/// tries again, as Kubernetes' lease controller does.
public actor LeaseHeartbeat {
    public static let namespace = "kube-node-lease"
    public static let leaseDurationSeconds: Int64 = 40
    static let firstRetry: Duration = .milliseconds(200)
    static let maxRetry: Duration = .seconds(7)
    static let leases = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases", namespace: namespace)

    public nonisolated let nodeName: String
    let client: KubeRESTClient
    let nodeUID: String
    let interval: Duration
    /// What the loop sleeps on between renewals (a fleet's nodes share one that wakes them together).
    let clock: any Clock<Duration>
    /// Shared by a fleet of fake nodes: renewals in flight at once across all of them.
    let gate: ConcurrencyGate?
    let logger: Logger
    /// The Lease as last read or written; nil until the first renewal.
    private var lease: JSONValue?

    public init(client: KubeRESTClient, nodeName: String, nodeUID: String, interval: Duration = .seconds(10),
                clock: any Clock<Duration> = ContinuousClock(), gate: ConcurrencyGate? = nil, logger: Logger) {
        self.client = client
        self.nodeName = nodeName
        self.nodeUID = nodeUID
        self.interval = interval
        self.clock = clock
        self.gate = gate
        self.logger = logger
    }

    var path: String { Self.leases.named(nodeName).path }

    /// Renews after `initialDelay`, then every `interval` plus kubelet's jitter; returns when
    /// the task is cancelled.
    public func run(initialDelay: Duration = .zero) async {
        if initialDelay > .zero {
            do { try await clock.sleep(for: initialDelay) } catch { return }
        }
        var retry = Self.firstRetry
        while !Task.isCancelled {
            do {
                _ = try await gate.run { try await self.renew() }
                retry = Self.firstRetry
            } catch is CancellationError {
                return
            } catch {
                logger.warning("lease renewal failed", metadata: ["node": .string(nodeName), "error": .string("\(error)")])
                // Kubernetes retries a failed renewal sooner than the interval, doubling the wait
                // up to 7 s: thousands of nodes retrying at a fixed pace would keep an
                // overloaded server overloaded.
                do { try await clock.sleep(for: min(retry, interval)) } catch { return }
                retry = min(retry * 2, Self.maxRetry)
                continue
            }
            let wait = Jitter.apply(interval, factor: Jitter.kubeletFactor, random: Double.random(in: 0..<1))
            do { try await clock.sleep(for: wait) } catch { return }
        }
    }

    /// Writes a fresh renewTime, creating the Lease when missing. Up to five attempts when
    /// conflicts keep coming; returns the stored Lease.
    @discardableResult
    public func renew() async throws -> JSONValue {
        var lastError: Error?
        for _ in 0..<5 {
            try Task.checkCancellation()
            do {
                let stored = try await write()
                lease = stored
                return stored
            } catch let e as KubeAPIError where e.isConflict || e.isAlreadyExists || e.isNotFound {
                // Stale copy, or created/deleted behind our back: read it again and retry.
                lease = try? await client.get(path)
                lastError = e
            }
        }
        throw lastError ?? CancellationError()
    }

    private func write() async throws -> JSONValue {
        let now = Timestamp.formatMicro(Date())
        var current: JSONValue
        if let lease {
            current = lease
        } else {
            do {
                current = try await client.get(path)
            } catch let e as KubeAPIError where e.isNotFound {
                return try await client.create(Self.leases.path, newLease(renewTime: now))
            }
        }
        current[path: ["spec", "holderIdentity"]] = .string(nodeName)
        current[path: ["spec", "leaseDurationSeconds"]] = .int(Self.leaseDurationSeconds)
        current[path: ["spec", "renewTime"]] = .string(now)
        if !nodeUID.isEmpty, current[path: ["metadata", "ownerReferences"]] == nil {
            current[path: ["metadata", "ownerReferences"]] = [ownerReference]
        }
        return try await client.update(path, current)
    }

    func newLease(renewTime: String) -> JSONValue {
        var metadata: JSONValue = ["name": .string(nodeName), "namespace": .string(Self.namespace)]
        // Owned by the Node, so deleting the Node collects its Lease.
        if !nodeUID.isEmpty { metadata["ownerReferences"] = [ownerReference] }
        return [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata,
            "spec": ["holderIdentity": .string(nodeName), "leaseDurationSeconds": .int(Self.leaseDurationSeconds),
                     "renewTime": .string(renewTime)],
        ]
    }

    var ownerReference: JSONValue {
        ["apiVersion": "v1", "kind": "Node", "name": .string(nodeName), "uid": .string(nodeUID)]
    }
}
