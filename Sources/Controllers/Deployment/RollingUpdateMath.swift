import KubeModel

/// The replica counts of one ReplicaSet that a rollout step looks at.
public struct ReplicaSetCounts: Sendable, Equatable {
    /// ReplicaSet name.
    public var name: String
    /// `spec.replicas`: what it is asked to run.
    public var replicas: Int
    /// `status.replicas`: pods it was last seen to have.
    public var current: Int
    /// `status.availableReplicas`.
    public var available: Int

    public init(name: String, replicas: Int, current: Int = 0, available: Int = 0) {
        self.name = name
        self.replicas = replicas
        self.current = current
        self.available = available
    }
}

/// The arithmetic of a RollingUpdate Deployment, as pure functions (Kubernetes'
/// `deployment/util` and `rolling.go`).
public enum RollingUpdateMath {
    /// An int-or-percent value against `total`: ints as they are, `"25%"` scaled and rounded
    /// up or down. `nil` for a missing or malformed value.
    public static func scaledValue(_ value: JSONValue?, total: Int, roundUp: Bool) -> Int? {
        guard let value else { return nil }
        if let i = value.intValue { return Int(i) }
        guard let s = value.stringValue, s.hasSuffix("%"), let pct = Int(s.dropLast()), pct >= 0 else { return nil }
        let product = pct * total
        return roundUp ? (product + 99) / 100 : product / 100
    }

    /// maxSurge (rounded up) and maxUnavailable (rounded down) for `desired` replicas; when
    /// both come out 0, one pod may be unavailable so the rollout can move at all.
    public static func fenceposts(maxSurge: JSONValue?, maxUnavailable: JSONValue?, desired: Int) -> (surge: Int, unavailable: Int) {
        let surge = scaledValue(maxSurge, total: desired, roundUp: true) ?? 0
        var unavailable = scaledValue(maxUnavailable, total: desired, roundUp: false) ?? 0
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, min(unavailable, desired))
    }

    /// Pods a ReplicaSet may have: more than `spec.replicas` while its surplus is being deleted,
    /// as `status.replicas` shows. Counting the larger keeps the surge bound on real pods, not
    /// only on specs (Kubernetes counts specs alone).
    static func podsBound(_ rs: ReplicaSetCounts) -> Int { max(rs.replicas, rs.current) }

    /// The new ReplicaSet's replicas after one scale-up step: up to `desired`, while all
    /// ReplicaSets together stay within `desired + surge`.
    public static func newReplicaSetReplicas(desired: Int, surge: Int, new: ReplicaSetCounts, all: [ReplicaSetCounts]) -> Int {
        if new.replicas >= desired { return desired }
        let maxTotal = desired + surge
        let current = all.reduce(0) { $0 + podsBound($1) }
        guard current < maxTotal else { return new.replicas }
        return new.replicas + min(maxTotal - current, desired - new.replicas)
    }

    /// New `spec.replicas` for old ReplicaSets (oldest first in `old`) after one scale-down
    /// step that keeps at least `desired - unavailable` pods available. Unhealthy old pods go
    /// first, then available ones down to the bound. Only changed ReplicaSets are returned.
    public static func oldReplicaSetScaleDowns(desired: Int, unavailable: Int, new: ReplicaSetCounts?,
                                               old: [ReplicaSetCounts]) -> [String: Int] {
        let oldTotal = old.reduce(0) { $0 + $1.replicas }
        guard oldTotal > 0 else { return [:] }
        let all = old + (new.map { [$0] } ?? [])
        let allTotal = all.reduce(0) { $0 + $1.replicas }
        let minAvailable = desired - unavailable
        let newUnavailable = new.map { max(0, $0.replicas - $0.available) } ?? 0
        let maxScaledDown = allTotal - minAvailable - newUnavailable
        guard maxScaledDown > 0 else { return [:] }

        var targets: [String: Int] = [:]
        var olds = old
        // Unhealthy pods do not count towards availability: removing them costs nothing.
        var cleaned = 0
        for i in olds.indices where cleaned < maxScaledDown && olds[i].replicas > 0 {
            let unhealthy = max(0, olds[i].replicas - olds[i].available)
            let step = min(maxScaledDown - cleaned, unhealthy)
            guard step > 0 else { continue }
            olds[i].replicas -= step
            cleaned += step
            targets[olds[i].name] = olds[i].replicas
        }
        // Then available pods, as far as the availability bound allows.
        let availableTotal = (olds + (new.map { [$0] } ?? [])).reduce(0) { $0 + $1.available }
        var budget = availableTotal - minAvailable
        for i in olds.indices where budget > 0 && olds[i].replicas > 0 {
            let step = min(olds[i].replicas, budget)
            olds[i].replicas -= step
            budget -= step
            targets[olds[i].name] = olds[i].replicas
        }
        return targets
    }
}
