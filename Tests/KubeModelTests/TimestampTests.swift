import Foundation
import Testing
import KubeModel

/// RFC 3339 timestamps as Kubernetes writes them: whole seconds for Time, microseconds for
/// MicroTime, always UTC, and read back to the same instant.
@Suite struct TimestampTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"),
        (1_764_950_400.25, "2025-12-05T16:00:00Z", "2025-12-05T16:00:00.250000Z"),
        (951_782_399.000042, "2000-02-28T23:59:59Z", "2000-02-28T23:59:59.000042Z"),
        (4_107_542_400.999999, "2100-03-01T00:00:00Z", "2100-03-01T00:00:00.999999Z"),
    ])
    func formats(seconds: Double, time: String, micro: String) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Timestamp.format(date) == time)
        // Floating-point seconds: the sixth digit may be off by one below the true value.
        let formatted = Timestamp.formatMicro(date)
        #expect(formatted.prefix(20) == micro.prefix(20))
        #expect(abs((Int(formatted.dropFirst(20).prefix(6)) ?? -10) - (Int(micro.dropFirst(20).prefix(6)) ?? 0)) <= 1)
        #expect(Timestamp.parse(time) == Date(timeIntervalSince1970: seconds.rounded(.down)))
    }
}
