import Foundation

/// GET /burn: spins a CPU for a while so that CPU limits and the HPA have something to see.
enum Burn {
    static let maxMilliseconds = 10_000

    struct Result: Sendable {
        var wallMilliseconds: Int
        var cpuSeconds: Double
    }

    /// Runs on a thread of its own: a busy loop on the cooperative pool would stall the other
    /// requests (and the probes) for as long as it runs.
    static func run(milliseconds: Int) async -> Result {
        let ms = min(max(milliseconds, 0), maxMilliseconds)
        return await withCheckedContinuation { (cont: CheckedContinuation<Result, Never>) in
            let thread = Thread {
                cont.resume(returning: spin(milliseconds: ms))
            }
            thread.name = "burn"
            thread.start()
        }
    }

    private static func spin(milliseconds: Int) -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(milliseconds))
        let cpuStart = threadCPUSeconds()
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        while clock.now < deadline {
            // Some arithmetic the optimizer cannot drop, between clock reads.
            for _ in 0..<10_000 { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 }
        }
        if x == 0 { log("") }  // uses `x`, so the loop is not optimized away
        let elapsed = clock.now - start
        let wall = Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
        return Result(wallMilliseconds: wall, cpuSeconds: max(0, threadCPUSeconds() - cpuStart))
    }

    /// CPU time of the calling thread: under a CPU quota it falls behind the wall time.
    private static func threadCPUSeconds() -> Double {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return 0 }
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
