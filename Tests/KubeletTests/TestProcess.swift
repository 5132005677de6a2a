import Foundation
import KubeModel

/// Child processes for tests, awaited without holding a thread of the cooperative pool. The
/// suites run in parallel on two cores: one blocking wait there stalls every other test's I/O
/// until timeouts fire in tests that have nothing to do with it.
enum TestProcess {
    /// Runs blocking work (a pipe read, a wait) outside the task pool and resumes with its result.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await BlockingWork.run(work)
    }

    /// Starts the process and returns its exit status once it has exited.
    @discardableResult
    static func run(_ process: Process) async throws -> Int32 {
        let (exited, continuation) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in continuation.finish() }
        try process.run()
        for await _ in exited {}
        return process.terminationStatus
    }
}
