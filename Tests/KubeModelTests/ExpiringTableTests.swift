import Foundation
import Testing
import KubeModel

/// The expiring table: entries end at their own time, and a full table makes room by
/// dropping expired entries first, then those that end soonest.
@Suite struct ExpiringTableTests {
    let t0 = Date(timeIntervalSince1970: 1_000)

    @Test func entriesEndAtTheirOwnTime() {
        let table = ExpiringTable<String, Int>(capacity: 10)
        table.insert("a", 1, until: t0 + 5, now: t0)
        table.insert("b", 2, until: t0 + 10, now: t0)
        table.insert("past", 3, until: t0, now: t0)
        #expect(table.lookup("a", now: t0 + 4)?.value == 1)
        #expect(table.lookup("a", now: t0 + 5) == nil)
        #expect(table.lookup("b", now: t0 + 9)?.until == t0 + 10)
        #expect(table.lookup("past", now: t0) == nil)
        #expect(table.count == 2)
    }

    @Test func aFullTableDropsExpiredThenSoonestEnding() {
        let table = ExpiringTable<Int, Int>(capacity: 10)
        for i in 0..<10 { table.insert(i, i, until: t0 + Double(i + 1), now: t0) }
        // At t0 + 3.5 entries 0, 1 and 2 have ended: they make the room.
        table.insert(10, 10, until: t0 + 100, now: t0 + 3.5)
        #expect(table.count == 8)
        #expect(table.lookup(3, now: t0 + 3.5)?.value == 3)
        for i in 11..<13 { table.insert(i, i, until: t0 + 100, now: t0 + 3.5) }
        // Full with nothing ended: the entry ending soonest (3) goes.
        table.insert(13, 13, until: t0 + 100, now: t0 + 3.5)
        #expect(table.count == 10)
        #expect(table.lookup(3, now: t0 + 3.5) == nil)
        #expect(table.lookup(4, now: t0 + 3.5)?.value == 4)
        #expect(table.lookup(13, now: t0 + 3.5)?.value == 13)
    }
}
