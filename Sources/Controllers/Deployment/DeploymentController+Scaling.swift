import Foundation
import KubeClient
import KubeModel

/// One active ReplicaSet as proportional scaling sees it.
struct ProportionalReplicaSet: Sendable, Equatable {
    /// ReplicaSet name.
    var name: String
    /// `spec.replicas`.
    var replicas: Int
    /// The `max-replicas` annotation: the Deployment's replicas + surge when it was last sized.
    var maxReplicas: Int?
    /// Creation time, for ties (newer first when adding, older first when removing).
    var created: Date
}

extension DeploymentController {
    /// A scaling event (Kubernetes' `isScalingEvent`): some active ReplicaSet was sized for a
    /// different `spec.replicas` than the Deployment has now.
    static func isScalingEvent(_ d: JSONValue, _ replicaSets: [JSONValue]) -> Bool {
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        return replicaSets.contains { rs in
            guard ObjectRules.int(rs[path: ["spec", "replicas"]]) > 0,
                  let annotated = Int(rs.annotations[desiredAnnotation] ?? "") else { return false }
            return annotated != desired
        }
    }

    /// Resizes the ReplicaSets for a changed `spec.replicas` (Kubernetes' `scale`): a lone
    /// active (or the latest) ReplicaSet takes the new size; a saturated new one drops the
    /// olds; during a RollingUpdate every active one grows or shrinks in proportion to its
    /// size. Answers whether it wrote anything (the ReplicaSet events bring the next step).
    func scaleProportionally(_ d: JSONValue, newRS: JSONValue?, olds: [JSONValue]) async throws -> Bool {
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        let (surge, _) = Self.fenceposts(d)
        func replicas(_ rs: JSONValue) -> Int { ObjectRules.int(rs[path: ["spec", "replicas"]]) }
        let all = olds + (newRS.map { [$0] } ?? [])
        let active = all.filter { replicas($0) > 0 }

        let lone: JSONValue? = active.count == 1 ? active.first : (active.isEmpty ? (newRS ?? olds.last) : nil)
        if let lone {
            try await scale(lone, to: desired, desired: desired, surge: surge)
            return true
        }
        if let newRS, replicas(newRS) == desired, ObjectRules.int(newRS[path: ["status", "availableReplicas"]]) == desired {
            for rs in olds where replicas(rs) > 0 { try await scale(rs, to: 0, desired: desired, surge: surge) }
            return true
        }
        guard d[path: ["spec", "strategy", "type"]]?.stringValue != "Recreate" else { return false }
        let inputs = active.map {
            ProportionalReplicaSet(name: $0.name ?? "", replicas: replicas($0), maxReplicas: Int($0.annotations[Self.maxAnnotation] ?? ""),
                                   created: ObjectRules.creationTime($0) ?? .distantPast)
        }
        let sizes = Self.proportionalSizes(desired: desired, surge: surge,
                                           statusReplicas: ObjectRules.int(d[path: ["status", "replicas"]]), replicaSets: inputs)
        // Every active one is written, even at the same size, so its annotations end the event.
        for rs in active { try await scale(rs, to: sizes[rs.name ?? ""] ?? replicas(rs), desired: desired, surge: surge) }
        return true
    }

    /// New sizes for the active ReplicaSets of a RollingUpdate Deployment now asking for
    /// `desired` replicas (Kubernetes' proportional scaling): the difference between
    /// `desired + surge` and what they add up to is shared out in proportion to each one's
    /// size against the total it was sized for (its `max-replicas` annotation, else
    /// `statusReplicas`); the rounding leftover goes to the first in order (largest; newest
    /// on ties when adding, oldest when removing). No size goes below 0.
    static func proportionalSizes(desired: Int, surge: Int, statusReplicas: Int,
                                  replicaSets: [ProportionalReplicaSet]) -> [String: Int] {
        let allowed = desired > 0 ? desired + surge : 0
        let toAdd = allowed - replicaSets.reduce(0) { $0 + $1.replicas }
        let ordered = replicaSets.sorted { a, b in
            if a.replicas != b.replicas { return a.replicas > b.replicas }
            if a.created != b.created { return toAdd > 0 ? a.created > b.created : a.created < b.created }
            return a.name < b.name
        }
        var sizes: [String: Int] = [:]
        var added = 0
        for rs in ordered {
            guard toAdd != 0 else { sizes[rs.name] = rs.replicas; continue }
            let share = proportion(rs, desired: desired, surge: surge, statusReplicas: statusReplicas, toAdd: toAdd, added: added)
            sizes[rs.name] = rs.replicas + share
            added += share
        }
        if toAdd != 0, let first = ordered.first {
            sizes[first.name] = max(0, (sizes[first.name] ?? 0) + toAdd - added)
        }
        return sizes
    }

    /// One ReplicaSet's share of `toAdd` (Kubernetes' `GetProportion`), capped by what is
    /// left to hand out.
    private static func proportion(_ rs: ProportionalReplicaSet, desired: Int, surge: Int, statusReplicas: Int,
                                   toAdd: Int, added: Int) -> Int {
        guard rs.replicas > 0, toAdd != added else { return 0 }
        let fraction: Int
        if desired == 0 {
            fraction = -rs.replicas
        } else {
            let sizedFor = rs.maxReplicas ?? statusReplicas
            // Sized for nothing known: no share of its own; the leftover step covers it.
            fraction = sizedFor > 0
                ? Int((Double(rs.replicas * (desired + surge)) / Double(sizedFor)).rounded()) - rs.replicas
                : 0
        }
        let allowed = toAdd - added
        return toAdd > 0 ? min(fraction, allowed) : max(fraction, allowed)
    }
}
