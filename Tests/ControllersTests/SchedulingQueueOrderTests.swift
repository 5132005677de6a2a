import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The scheduler's queue hands out pods by spec.priority, highest first, and in arrival order
/// among equals (Kubernetes' scheduling queue order).
@Suite struct SchedulingQueueOrderTests {
    @Test func priorityFirstThenArrival() async {
        let priorities: [String: Int] = ["low-1": -5, "mid-1": 0, "high-1": 1000, "mid-2": 0, "high-2": 1000, "low-2": -5]
        let q = WorkQueue<String, ManualClock>(clock: ManualClock(), priority: { priorities[$0] ?? 0 })
        for key in ["low-1", "mid-1", "high-1", "mid-2", "high-2", "low-2"] { q.add(key) }
        var order: [String] = []
        for _ in 0..<6 { if let k = await q.get() { order.append(k); q.done(k) } }
        #expect(order == ["high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2"])
    }

    @Test func anItemRequeuedByDoneTakesItsPlaceByPriority() async {
        let priorities: [String: Int] = ["urgent": 10, "a": 0, "b": 0]
        let q = WorkQueue<String, ManualClock>(clock: ManualClock(), priority: { priorities[$0] ?? 0 })
        q.add("urgent")
        #expect(await q.get() == "urgent")
        q.add("a")
        q.add("b")
        q.add("urgent")  // changed while processed: back after done, ahead of a and b
        q.done("urgent")
        #expect(await q.get() == "urgent")
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
    }

    @Test func withoutPrioritiesTheQueueIsFIFO() async {
        let q = WorkQueue<String, ManualClock>(clock: ManualClock())
        for key in ["c", "a", "b"] { q.add(key) }
        #expect(await q.get() == "c")
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
    }

    @Test func theHeapMatchesASortOnManyItems() {
        var pending = PendingItems<Int>(prioritized: true)
        var rng = SystemRandomNumberGenerator()
        let items = (0..<2000).map { ($0, Int.random(in: -3...3, using: &rng)) }
        for (item, priority) in items { pending.append(item, priority: priority) }
        var popped: [Int] = []
        while let item = pending.pop() { popped.append(item) }
        // Stable sort by priority descending keeps arrival order among equals.
        let expected = items.enumerated().sorted { a, b in
            a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset
        }.map(\.element.0)
        #expect(popped == expected)
    }

    @Test func thePodsPriorityIsItsSpecPriority() {
        #expect(Scheduler.priority(["spec": ["priority": 2_000_000_000]]) == 2_000_000_000)
        #expect(Scheduler.priority(["spec": ["priority": -10]]) == -10)
        #expect(Scheduler.priority(["spec": ["priorityClassName": "high"]]) == 0)  // no PriorityClass served
        #expect(Scheduler.priority(["spec": [:]]) == 0)
    }
}
