import Foundation
import Testing
@testable import KubeModel

/// Object uids and audit IDs: version 4 UUIDs in Kubernetes' lowercase form, which
/// Foundation's parser reads back to the same value.
@Suite struct RandomUUIDTests {
    @Test func bitsAreLaidOutAsAVersionFourUUID() {
        #expect(RandomUUID.string(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(RandomUUID.string(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(RandomUUID.string(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
                == "01234567-89ab-4def-bedc-ba9876543210")
    }

    @Test func freshOnesParseAndDiffer() throws {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let s = RandomUUID.string()
            let parsed = try #require(UUID(uuidString: s))
            #expect(parsed.uuidString.lowercased() == s)
            #expect(Array(s)[14] == "4")
            #expect("89ab".contains(Array(s)[19]))
            seen.insert(s)
        }
        #expect(seen.count == 1000)
    }
}
