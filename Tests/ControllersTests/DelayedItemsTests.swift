import Testing
@testable import KubeClient

/// The work queue's delayed items: released in time order, an earlier time for an item wins
/// over a later one, and entries superseded many times over still release each item once.
@Suite struct DelayedItemsTests {
    @Test func dueItemsLeaveInTimeOrderWithTheNextTime() {
        var d = DelayedItems<String, Int>()
        var scheduled: [Bool] = []
        for (item, at) in [("c", 30), ("a", 10), ("d", 40), ("b", 20)] { scheduled.append(d.schedule(item, at: at)) }
        #expect(scheduled.allSatisfy { $0 })
        let first = d.popDue(now: 25)
        #expect(first.due == ["a", "b"])
        #expect(first.next == 30)
        #expect(d.count == 2)
        let rest = d.popDue(now: 100)
        #expect(rest.due == ["c", "d"] && rest.next == nil)
        let none = d.popDue(now: 100)
        #expect(none.due.isEmpty && none.next == nil)
    }

    @Test func anEarlierTimeWinsAndALaterOneIsIgnored() {
        var d = DelayedItems<String, Int>()
        let answers = [d.schedule("k", at: 50), d.schedule("k", at: 60), d.schedule("k", at: 50), d.schedule("k", at: 5)]
        #expect(answers == [true, false, false, true])
        let out = d.popDue(now: 5)
        #expect(out.due == ["k"])
        // The superseded entry at 50 releases nothing.
        let after = d.popDue(now: 1000)
        #expect(after.due.isEmpty && after.next == nil)
    }

    @Test func itemsMovedEarlierManyTimesAreReleasedOnce() {
        var d = DelayedItems<Int, Int>()
        for item in 0..<100 { _ = d.schedule(item, at: 10_000 + item) }
        // Each item moves earlier 50 times: the heap is rebuilt along the way.
        var moved = 0
        for step in 1...50 {
            for item in 0..<100 where d.schedule(item, at: 10_000 + item - step * 100) { moved += 1 }
        }
        #expect(moved == 5000)
        #expect(d.count == 100)
        let out = d.popDue(now: 10_000)
        #expect(out.due == Array(0..<100))
        let after = d.popDue(now: .max)
        #expect(after.due.isEmpty && after.next == nil)
        d.removeAll()
        #expect(d.count == 0)
    }
}
