import Foundation
import KubeModel

/// One reconcile's view of a DaemonSet over the nodes: each node's placement verdict and the
/// daemon pods there, from which the next step (pods to create, pods to delete) and the
/// status counts are read. Pure, so the rules are tested without a server.
struct DaemonNodes {
    /// One step: nodes that get a new pod and pods to delete.
    struct Plan: Equatable {
        var createOn: [String] = []
        var delete: [JSONValue] = []
        var isEmpty: Bool { createOn.isEmpty && delete.isEmpty }
    }

    /// What `kubectl get ds` shows.
    struct Counts: Equatable {
        var desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0
    }

    struct Entry {
        var verdict: DaemonPlacement.Verdict
        /// Pods not finished, oldest first.
        var active: [JSONValue]
        var failed: [JSONValue]
    }

    let ds: JSONValue
    let hash: String
    let now: Date
    /// Node name -> entry, for every node that exists.
    let entries: [String: Entry]
    /// Pods whose node is gone.
    let stranded: [JSONValue]

    init(ds: JSONValue, nodes: [JSONValue], pods: [JSONValue], hash: String, now: Date) {
        self.ds = ds
        self.hash = hash
        self.now = now
        var byNode: [String: [JSONValue]] = [:]
        for pod in pods { if let node = DaemonPlacement.node(of: pod) { byNode[node, default: []].append(pod) } }
        var entries: [String: Entry] = [:]
        for node in nodes {
            guard let name = node.name else { continue }
            let here = (byNode.removeValue(forKey: name) ?? []).sorted(by: Self.olderFirst)
            entries[name] = Entry(verdict: DaemonPlacement.verdict(for: ds, on: node),
                                  active: here.filter(ObjectRules.isActive),
                                  failed: here.filter { $0[path: ["status", "phase"]]?.stringValue == "Failed" })
        }
        self.entries = entries
        stranded = byNode.values.flatMap { $0 }
    }

    static func olderFirst(_ a: JSONValue, _ b: JSONValue) -> Bool {
        let ta = ObjectRules.creationTime(a) ?? .distantPast, tb = ObjectRules.creationTime(b) ?? .distantPast
        return ta != tb ? ta < tb : (a.name ?? "") < (b.name ?? "")
    }

    var minReadySeconds: Int { ObjectRules.int(ds[path: ["spec", "minReadySeconds"]]) }
    func isNew(_ pod: JSONValue) -> Bool { pod.labels[ControllerHistory.podHashLabel] == hash }
    func isAvailable(_ pod: JSONValue) -> Bool { ObjectRules.isAvailable(pod, minReadySeconds: minReadySeconds, now: now) }

    var surgeAllowed: Bool {
        ds[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate" && fenceposts.surge > 0
    }

    /// maxSurge and maxUnavailable over the desired node count, both rounded up; 1 unavailable
    /// when both come out 0.
    var fenceposts: (surge: Int, unavailable: Int) {
        let desired = entries.values.filter(\.verdict.shouldRun).count
        let rolling = ds[path: ["spec", "updateStrategy", "rollingUpdate"]]
        let surge = RollingUpdateMath.scaledValue(rolling?["maxSurge"], total: desired, roundUp: true) ?? 0
        var unavailable = RollingUpdateMath.scaledValue(rolling?["maxUnavailable"], total: desired, roundUp: true) ?? 1
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    /// Missing pods, pods that must go (node no longer eligible, failed, duplicates, node gone).
    func basicPlan() -> Plan {
        var plan = Plan()
        for name in entries.keys.sorted() {
            guard let entry = entries[name] else { continue }
            plan.delete += entry.failed
            if !entry.verdict.shouldContinueRunning {
                plan.delete += entry.active
                continue
            }
            if entry.active.isEmpty {
                if entry.verdict.shouldRun { plan.createOn.append(name) }
                continue
            }
            // Keep the oldest pod; while surging, the oldest new one beside the oldest old one.
            var keep = [entry.active[0]]
            if surgeAllowed, let newest = entry.active.first(where: isNew), !isNew(entry.active[0]) { keep.append(newest) }
            plan.delete += entry.active.filter { pod in !keep.contains { $0.uid == pod.uid } }
        }
        plan.delete += stranded.filter { !ObjectRules.isTerminating($0) }
        return plan
    }

    /// One RollingUpdate step: old-revision pods replaced within maxUnavailable (deleting first)
    /// or maxSurge (a new pod beside the old one, which goes once the new one is available).
    func rollingUpdatePlan() -> Plan {
        var plan = Plan()
        let (surge, maxUnavailable) = fenceposts
        var unavailable = 0
        var candidates: [JSONValue] = []
        var surging = 0
        var needSurge: [String] = []
        for name in entries.keys.sorted() {
            guard let entry = entries[name], entry.verdict.shouldRun else { continue }
            let new = entry.active.first(where: isNew)
            let old = entry.active.first { !isNew($0) }
            switch (old, new) {
            case (nil, nil):
                unavailable += 1
            case (nil, let new?):
                if !isAvailable(new) { unavailable += 1 }
            case (let old?, nil):
                if surge > 0 {
                    if isAvailable(old) { needSurge.append(name) } else { plan.createOn.append(name) }
                } else if isAvailable(old) {
                    candidates.append(old)
                } else {
                    // Already unavailable: replacing it costs nothing.
                    unavailable += 1
                    plan.delete.append(old)
                }
            case (let old?, let new?):
                surging += 1
                if isAvailable(new) { plan.delete.append(old) } else { unavailable += 1 }
            }
        }
        if surge > 0 {
            plan.createOn += needSurge.prefix(max(0, surge - surging))
        } else {
            plan.delete += candidates.prefix(max(0, maxUnavailable - unavailable))
        }
        return plan
    }

    func counts() -> Counts {
        var c = Counts()
        for entry in entries.values {
            let scheduled = !entry.active.isEmpty
            guard entry.verdict.shouldRun else {
                if scheduled { c.misscheduled += 1 }
                continue
            }
            c.desired += 1
            guard let pod = entry.active.first else { continue }
            c.current += 1
            if ObjectRules.isReady(pod) { c.ready += 1 }
            if isAvailable(pod) { c.available += 1 }
            if isNew(pod) { c.updated += 1 }
        }
        return c
    }
}
