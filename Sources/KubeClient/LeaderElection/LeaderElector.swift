import Foundation
import KubeModel

/// Settings of a leader election (client-go's `LeaderElectionConfig`).
public struct LeaderElectionConfiguration: Sendable {
    /// Namespace of the Lease.
    public var namespace: String
    /// Name of the Lease.
    public var name: String
    /// This candidate's identity, unique per process.
    public var identity: String
    /// How long a lease is claimed for after each renewal; followers wait this long after
    /// they last saw the record change before taking over.
    public var leaseDuration: Duration
    /// How long the leader keeps trying to renew before it gives up leading.
    public var renewDeadline: Duration
    /// Pause between attempts to acquire or renew.
    public var retryPeriod: Duration
    /// Whether to release the lease when the election is cancelled, so a successor need not
    /// wait out the lease duration.
    public var releaseOnCancel: Bool

    /// Kubernetes' defaults: 15 s lease, 10 s renew deadline, 2 s retry period, released on cancel.
    public init(namespace: String = "kube-system", name: String = "caravel-controller-manager",
                identity: String = LeaderElectionConfiguration.defaultIdentity(),
                leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
                retryPeriod: Duration = .seconds(2), releaseOnCancel: Bool = true) {
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.releaseOnCancel = releaseOnCancel
    }

    /// `hostname_<random>`, as kube-controller-manager names its candidates.
    public static func defaultIdentity() -> String {
        ProcessInfo.processInfo.hostName + "_" + RandomUUID.string()
    }

    /// `leaseDuration` in whole seconds (rounded up, at least 1), as the Lease stores it.
    var leaseDurationSeconds: Int {
        let (s, atto) = leaseDuration.components
        return max(1, Int(s) + (atto > 0 ? 1 : 0))
    }
}

/// Leader election on a `LeaseLock`, as client-go's `leaderelection.LeaderElector`: campaign
/// until the lease is absent, expired or ours; run the leading work while renewing; stop it
/// when renewal fails; release the lease when cancelled.
///
/// Expiry is judged by this process's `clock` from the moment it last saw the record change,
/// never by comparing the holder's `renewTime` with the local wall clock, so skew between
/// machines does not matter. `now` only stamps the times written into the record.
public struct LeaderElector<C: Clock>: Sendable where C.Duration == Duration {
    /// The last record this candidate saw, and when (by `clock`) it saw it change.
    struct Observation: Sendable {
        var record: LeaderElectionRecord?
        var version: String?
        var time: C.Instant?
    }

    let lock: any LeaseLock
    let configuration: LeaderElectionConfiguration
    let clock: C
    let now: @Sendable () -> Date

    /// An elector for `configuration.identity` on `lock`.
    public init(lock: any LeaseLock, configuration: LeaderElectionConfiguration, clock: C,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.lock = lock
        self.configuration = configuration
        self.clock = clock
        self.now = now
    }

    /// One term: waits until this candidate holds the lease, runs `leading` while it keeps it
    /// and returns once leadership is lost (`leading` is cancelled first), `leading` returns,
    /// or the calling task is cancelled (then the lease is released if configured). Answers
    /// whether it led at all.
    @discardableResult
    public func run(_ leading: @escaping @Sendable () async -> Void) async -> Bool {
        var observed = Observation()
        while true {
            guard !Task.isCancelled else { return false }
            let (held, seen) = await tryAcquireOrRenew(observed)
            observed = seen
            if held { break }
            do { try await clock.sleep(for: configuration.retryPeriod) } catch { return false }
        }

        let acquired = observed
        let final = await withTaskGroup(of: Observation?.self) { group in
            group.addTask { await leading(); return nil }
            group.addTask { await self.keepRenewing(acquired) }
            var final = acquired
            // Whichever ends first ends the term: lost lease cancels the work and vice versa.
            if let first = await group.next(), let o = first { final = o }
            group.cancelAll()
            for await o in group { if let o { final = o } }
            return final
        }
        if configuration.releaseOnCancel, final.record?.holderIdentity == configuration.identity {
            // The calling task is usually cancelled by now and the request would be cancelled
            // with it; the release must still reach the server, so it runs outside the task.
            await Task { await self.release() }.value
        }
        return true
    }

    /// Renews every `retryPeriod`; returns the last observation when the lease is lost (another
    /// holder seen, or no successful renewal within `renewDeadline`) or when cancelled.
    func keepRenewing(_ start: Observation) async -> Observation {
        var observed = start
        var lastRenewal = clock.now
        while true {
            do { try await clock.sleep(for: configuration.retryPeriod) } catch { return observed }
            let deadline = lastRenewal.advanced(by: configuration.renewDeadline)
            let snapshot = observed
            let attempt = await withTaskGroup(of: (Bool, Observation)?.self) { group in
                group.addTask { await self.tryAcquireOrRenew(snapshot) }
                // A hung request must not keep us leading past the renew deadline.
                group.addTask { try? await self.clock.sleep(until: deadline, tolerance: nil); return nil }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            if Task.isCancelled { return attempt?.1 ?? observed }
            if let (held, seen) = attempt {
                observed = seen
                if held { lastRenewal = clock.now; continue }
                if let holder = seen.record?.holderIdentity, !holder.isEmpty, holder != configuration.identity {
                    return observed
                }
            }
            if clock.now >= deadline { return observed }
        }
    }

    /// One attempt (client-go's `tryAcquireOrRenew`): create the lease if absent, take it if
    /// released or expired, renew it if ours. Answers whether we hold it now, and what we saw.
    func tryAcquireOrRenew(_ previous: Observation) async -> (Bool, Observation) {
        var observed = previous
        let stamp = now()
        var record = LeaderElectionRecord(holderIdentity: configuration.identity,
                                          leaseDurationSeconds: configuration.leaseDurationSeconds,
                                          acquireTime: stamp, renewTime: stamp)
        let current: (record: LeaderElectionRecord, version: String)?
        do { current = try await lock.get() } catch { return (false, observed) }
        guard let current else {
            guard let version = try? await lock.create(record) else { return (false, observed) }
            return (true, Observation(record: record, version: version, time: clock.now))
        }
        if current.version != observed.version {
            observed = Observation(record: current.record, version: current.version, time: clock.now)
        }
        let ours = current.record.holderIdentity == configuration.identity
        if !current.record.holderIdentity.isEmpty, !ours, isValid(observed) { return (false, observed) }
        if ours {
            record.acquireTime = current.record.acquireTime
            record.leaseTransitions = current.record.leaseTransitions
        } else {
            record.leaseTransitions = current.record.leaseTransitions + 1
        }
        guard let version = try? await lock.update(record, version: current.version) else { return (false, observed) }
        return (true, Observation(record: record, version: version, time: clock.now))
    }

    /// Whether the observed holder's claim still stands by our clock.
    func isValid(_ o: Observation) -> Bool {
        guard let record = o.record, let time = o.time else { return false }
        return clock.now < time.advanced(by: .seconds(record.leaseDurationSeconds))
    }

    /// Gives the lease up: no holder, a one-second duration, transitions kept. It rereads the
    /// lease first: a renewal cut short by the cancellation may have landed without our seeing
    /// its new version. A few tries, in case that renewal lands in between.
    func release() async {
        for _ in 0..<3 {
            guard let current = try? await lock.get(), current.record.holderIdentity == configuration.identity else { return }
            let stamp = now()
            let released = LeaderElectionRecord(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: stamp,
                                                renewTime: stamp, leaseTransitions: current.record.leaseTransitions)
            if (try? await lock.update(released, version: current.version)) != nil { return }
        }
    }
}
