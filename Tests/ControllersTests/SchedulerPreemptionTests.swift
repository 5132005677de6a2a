import KubeModel
import NIOConcurrencyHelpers
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// Preemption: which pods a higher-priority pod displaces, on which node, and what the
/// scheduler writes (nomination, DisruptionTarget, deletion, event).
@Suite struct SchedulerPreemptionTests {
    typealias F = SchedulerFilterTests

    static func pod(_ name: String, cpu: String, priority: Int64, node: String? = nil, extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec = extra
        spec["priority"] = .int(priority)
        if let node { spec["nodeName"] = .string(node) }
        return F.pod(name, cpu: cpu, spec: spec)
    }

    func find(_ pod: JSONValue, _ nodes: [NodeInfo]) -> Preemption.Outcome {
        Preemption.find(pod: PodInfo(pod), nodes: nodes)
    }

    @Test func theFewestLeastImportantVictimsAreChosen() {
        // Node a: two low pods; node b: one medium pod. The pod needs 1 cpu of 2.
        let a = F.info(F.node("a"), [Self.pod("low1", cpu: "1", priority: 1, node: "a"), Self.pod("low2", cpu: "1", priority: 1, node: "a")])
        let b = F.info(F.node("b"), [Self.pod("mid", cpu: "1500m", priority: 50, node: "b"), Self.pod("tiny", cpu: "500m", priority: 2, node: "b")])
        guard case .preempt(let c) = find(Self.pod("urgent", cpu: "1", priority: 100), [a, b]) else {
            Issue.record("expected a candidate")
            return
        }
        // On a one low pod is enough (the other is spared); on b the medium one must go.
        #expect(c.node == "a")
        #expect(c.victims.count == 1)
        #expect(c.victims.first.map { Scheduler.priority($0.pod) } == 1)
    }

    static func budget(app: String, allowed: Int64, disrupted: [String] = []) -> PreemptionBudget? {
        var status: JSONValue = ["disruptionsAllowed": .int(allowed)]
        if !disrupted.isEmpty { status["disruptedPods"] = .object(Dictionary(uniqueKeysWithValues: disrupted.map { ($0, "2026-01-01T00:00:00Z") })) }
        return PreemptionBudget(["metadata": ["name": .string("pdb-\(app)"), "namespace": "default"],
                                 "spec": ["selector": ["matchLabels": ["app": .string(app)]]], "status": status])
    }

    static func labelled(_ pod: JSONValue, app: String) -> JSONValue {
        var p = pod
        p[path: ["metadata", "labels"]] = ["app": .string(app)]
        return p
    }

    @Test func nodesWhoseVictimsBreakNoBudgetArePreferred() throws {
        // Node a's victim would be the cheaper one, but a budget allows it no disruption.
        let a = F.info(F.node("a"), [Self.labelled(Self.pod("guarded", cpu: "2", priority: 1, node: "a"), app: "db")])
        let b = F.info(F.node("b"), [Self.labelled(Self.pod("free", cpu: "2", priority: 5, node: "b"), app: "web")])
        let budgets = [try #require(Self.budget(app: "db", allowed: 0)), try #require(Self.budget(app: "web", allowed: 1))]
        guard case .preempt(let c) = Preemption.find(pod: PodInfo(Self.pod("urgent", cpu: "1", priority: 100)), nodes: [a, b], budgets: budgets) else {
            Issue.record("expected a candidate")
            return
        }
        #expect(c.node == "b")
        #expect(c.budgetViolations == 0)
        // Without budgets the cheaper victim on a is chosen.
        guard case .preempt(let plain) = find(Self.pod("urgent", cpu: "1", priority: 100), [a, b]) else {
            Issue.record("expected a candidate")
            return
        }
        #expect(plain.node == "a")
        // When breaking a budget is the only way, it is broken (a preemption is not an eviction).
        guard case .preempt(let forced) = Preemption.find(pod: PodInfo(Self.pod("urgent", cpu: "1", priority: 100)), nodes: [a], budgets: budgets) else {
            Issue.record("expected a candidate")
            return
        }
        #expect(forced.victims.map(\.pod.name) == ["guarded"])
        #expect(forced.budgetViolations == 1)
    }

    @Test func protectedPodsAreSparedBeforeOthersOnANode() throws {
        // Either pod alone makes room; the one no budget protects goes, though it matters more.
        let a = F.info(F.node("a"), [Self.labelled(Self.pod("guarded", cpu: "1", priority: 1, node: "a"), app: "db"),
                                     Self.labelled(Self.pod("plain", cpu: "1", priority: 3, node: "a"), app: "web")])
        let budgets = [try #require(Self.budget(app: "db", allowed: 0))]
        guard case .preempt(let c) = Preemption.find(pod: PodInfo(Self.pod("urgent", cpu: "1", priority: 100)), nodes: [a], budgets: budgets) else {
            Issue.record("expected a candidate")
            return
        }
        #expect(c.victims.map(\.pod.name) == ["plain"])
        #expect(c.budgetViolations == 0)
        // A pod the budget already counts as disrupted does not count against it again.
        let counted = [try #require(Self.budget(app: "db", allowed: 0, disrupted: ["guarded"]))]
        #expect(PreemptionBudget.split([PodInfo(Self.labelled(Self.pod("guarded", cpu: "1", priority: 1, node: "a"), app: "db"))],
                                       budgets: counted).violating.isEmpty)
        // Budgets with one disruption left: the first covered pod fits in it, the second breaks it.
        let one = [try #require(Self.budget(app: "db", allowed: 1))]
        let pods = ["x", "y"].map { PodInfo(Self.labelled(Self.pod($0, cpu: "1", priority: 1, node: "a"), app: "db")) }
        let split = PreemptionBudget.split(pods, budgets: one)
        #expect(split.others.map(\.pod.name) == ["x"])
        #expect(split.violating.map(\.pod.name) == ["y"])
        // An empty selector protects nothing here.
        #expect(PreemptionBudget(["metadata": ["name": "all", "namespace": "default"], "spec": ["selector": [:]],
                                  "status": ["disruptionsAllowed": 0]]) == nil)
    }

    @Test func equalOrHigherPrioritiesAreNeverVictims() {
        let a = F.info(F.node("a"), [Self.pod("peer", cpu: "2", priority: 100, node: "a")])
        guard case .none(let why) = find(Self.pod("urgent", cpu: "1", priority: 100), [a]) else {
            Issue.record("expected no candidate")
            return
        }
        #expect(why == "0/1 nodes are available: 1 No preemption victims found for incoming pod.")
    }

    @Test func unresolvableNodesAreNotHelpful() {
        let tainted = F.info(F.node("t", taints: [["key": "k", "value": "v", "effect": "NoSchedule"]]),
                             [Self.pod("low", cpu: "2", priority: 0, node: "t")])
        let full = F.info(F.node("f"), [Self.pod("peer", cpu: "2", priority: 5, node: "f")])
        guard case .none(let why) = find(Self.pod("urgent", cpu: "1", priority: 5), [tainted, full]) else {
            Issue.record("expected no candidate")
            return
        }
        #expect(why == "0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")
    }

    @Test func neverPolicyAndTerminatingVictimsStopPreemption() {
        let a = F.info(F.node("a"), [Self.pod("low", cpu: "2", priority: 0, node: "a")])
        guard case .none(let never) = find(Self.pod("polite", cpu: "1", priority: 10, extra: ["preemptionPolicy": "Never"]), [a]) else {
            Issue.record("expected no candidate")
            return
        }
        #expect(never == "not eligible due to preemptionPolicy=Never.")
        var going = Self.pod("low", cpu: "2", priority: 0, node: "a")
        going[path: ["metadata", "deletionTimestamp"]] = "2026-01-01T00:00:00Z"
        var nominated = Self.pod("urgent", cpu: "1", priority: 10)
        nominated[path: ["status", "nominatedNodeName"]] = "a"
        guard case .none(let waiting) = find(nominated, [F.info(F.node("a"), [going])]) else {
            Issue.record("expected no candidate")
            return
        }
        #expect(waiting == "not eligible due to a terminating pod on the nominated node.")
    }

    @Test func theSchedulerNominatesMarksAndDeletesTheVictim() async throws {
        let client = RecordingClient()
        let pods = ObjectCache()
        let cache = SchedulerCache(clock: ContinuousClock())
        cache.setNode(F.node("a"))
        let low = Self.pod("low", cpu: "2", priority: 0, node: "a")
        cache.setPod(low)
        client.seed(low, as: Scheduler.podResource.inNamespace("default"), into: pods)
        client.seed(Self.pod("urgent", cpu: "1", priority: 1000), as: Scheduler.podResource.inNamespace("default"), into: pods)
        let s = Scheduler(client: client, pods: pods, cache: cache)
        #expect(try await s.reconcile(key: "default/urgent") == .requeue(after: .seconds(1)))
        let statuses = client.actions(on: "pods").filter { $0.matches("patch", "pods", subresource: "status") }
        let nomination = statuses.first { $0.name == "urgent" }
        #expect(nomination?.object?[path: ["status", "nominatedNodeName"]] == "a")
        #expect(nomination?.object?[path: ["status", "conditions"]]?.arrayValue?.first?["message"]?.stringValue
                == "0/1 nodes are available: 1 Insufficient cpu.")
        let marked = statuses.first { $0.name == "low" }?.object?[path: ["status", "conditions"]]?.arrayValue?.last
        #expect(marked?["type"] == "DisruptionTarget" && marked?["reason"] == "PreemptionByScheduler")
        #expect(client.actions(on: "pods").contains { $0.matches("delete", "pods") && $0.name == "low" })
        #expect(client.actions(on: "events").contains {
            $0.object?["reason"]?.stringValue == "Preempted" && $0.object?[path: ["involvedObject", "name"]]?.stringValue == "low"
        })
    }

    @Test func aRetryBeforeTheInformerShowsTheDeletionPreemptsNoMore() async throws {
        let client = RecordingClient()
        let pods = ObjectCache()
        let cache = SchedulerCache(clock: ContinuousClock())
        cache.setNode(F.node("a"))
        let lows = [Self.pod("low1", cpu: "1", priority: 0, node: "a"), Self.pod("low2", cpu: "1", priority: 0, node: "a")]
        for low in lows {
            cache.setPod(low)
            client.seed(low, as: Scheduler.podResource.inNamespace("default"), into: pods)
        }
        let urgent = Self.pod("urgent", cpu: "1", priority: 1000)
        client.seed(urgent, as: Scheduler.podResource.inNamespace("default"), into: pods)
        let s = Scheduler(client: client, pods: pods, cache: cache)
        _ = try await s.reconcile(key: "default/urgent")
        // The informer shows the nomination, not yet the victim's deletion; the pod is retried.
        var nominated = urgent
        nominated[path: ["status", "nominatedNodeName"]] = "a"
        client.seed(nominated, as: Scheduler.podResource.inNamespace("default"), into: pods)
        _ = try await s.reconcile(key: "default/urgent")
        #expect(client.actions(on: "pods").filter { $0.matches("delete", "pods") }.count == 1)
        #expect(client.actions(on: "events").filter { $0.object?["reason"]?.stringValue == "Preempted" }.count == 1)
        // A stale copy of the victim from the informer does not undo what the scheduler knows.
        let victim = try #require(client.actions(on: "pods").first { $0.matches("delete", "pods") }?.name)
        cache.setPod(try #require(lows.first { $0.name == victim }))
        #expect(Preemption.refusal(pod: PodInfo(nominated), nodes: cache.nodes)
                == "not eligible due to a terminating pod on the nominated node.")
        // Once it is gone, the room is the preemptor's.
        cache.removePod(key: "default/\(victim)")
        #expect(Preemption.refusal(pod: PodInfo(nominated), nodes: cache.nodes) == nil)
    }

    @Test func theSchedulersOwnStatusWriteDoesNotRequeueTheWaitingPod() async {
        let queued = NIOLockedValueBox<[String]>([])
        let handler = Scheduler.podHandler(cache: SchedulerCache(clock: ContinuousClock()), waiting: UnschedulablePods(),
                                           enqueue: { key in queued.withLockedValue { $0.append(key) } })
        let pod = Self.pod("urgent", cpu: "1", priority: 1000)
        var written = pod
        written[path: ["status", "nominatedNodeName"]] = "a"
        written[path: ["metadata", "resourceVersion"]] = "7"
        await handler.onUpdate(pod, written)
        #expect(queued.withLockedValue { $0 }.isEmpty)
        var relabelled = written
        relabelled[path: ["metadata", "labels"]] = ["tier": "gold"]
        await handler.onUpdate(written, relabelled)
        #expect(queued.withLockedValue { $0 } == ["default/urgent"])
    }

    @Test func aNominationReservesTheNodeFromPodsNoMoreImportant() {
        let cache = SchedulerCache(clock: ContinuousClock())
        cache.setNode(F.node("a"))
        cache.setPod(Self.pod("low1", cpu: "1", priority: 0, node: "a"))
        let urgent = PodInfo(Self.pod("urgent", cpu: "1", priority: 1000))
        cache.nominate(urgent, on: "a")
        func decide(_ pod: JSONValue) -> SchedulingDecision {
            let info = PodInfo(pod)
            return cache.place(info) { nodes, start in SchedulingScore.schedule(pod: info, nodes: nodes, start: start) }
        }
        // The replacement of a victim does not take the room the preemptor waits for.
        guard case .unschedulable = decide(Self.pod("low2", cpu: "1", priority: 0)) else {
            Issue.record("a lower pod took the nominated room")
            return
        }
        // A more important pod may; the nominated pod itself does, and its nomination ends.
        guard case .bind("a") = decide(urgent.pod) else {
            Issue.record("the nominated pod did not fit its own reservation")
            return
        }
        #expect(cache.nomination(of: "default/urgent") == nil)
    }

    @Test func anOlderCopyKeepsANominationAndAWithdrawnOneEndsIt() {
        let cache = SchedulerCache(clock: ContinuousClock())
        cache.setNode(F.node("a"))
        let urgent = Self.pod("urgent", cpu: "1", priority: 1000)
        cache.nominate(PodInfo(urgent), on: "a")
        // The informer still shows the pod as it was before the nomination was written.
        cache.setPod(urgent)
        #expect(cache.nomination(of: "default/urgent") == "a")
        var nominated = urgent
        nominated[path: ["status", "nominatedNodeName"]] = "a"
        cache.setPod(nominated)
        // Once shown, a copy without it is a withdrawal.
        cache.setPod(urgent)
        #expect(cache.nomination(of: "default/urgent") == nil)
        cache.setPod(nominated)
        cache.removePod(key: "default/urgent")
        #expect(cache.nomination(of: "default/urgent") == nil)
    }

    @Test func aPodNotStartedYetIsTheFirstVictimAmongEquals() {
        var started = Self.pod("started", cpu: "1", priority: 0, node: "a")
        started[path: ["status", "startTime"]] = "2026-01-01T00:00:00Z"
        let fresh = Self.pod("fresh", cpu: "1", priority: 0, node: "a")
        guard case .preempt(let c) = find(Self.pod("urgent", cpu: "1", priority: 100), [F.info(F.node("a"), [started, fresh])]) else {
            Issue.record("expected a candidate")
            return
        }
        #expect(c.victims.map(\.pod.name) == ["fresh"])
    }
}
