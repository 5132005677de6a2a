import Dispatch

/// Blocking work (a pipe read to its end, a wait for a child process) kept off the threads
/// that run Swift tasks. On Linux, tasks of default priority run on libdispatch's default
/// root queue, the very pool `DispatchQueue.global()` hands out: a thread blocked there is
/// one fewer for every task in the process, and libdispatch adds a replacement only about
/// once a second. A serial queue of its own targets the overcommit pool instead, which
/// starts a thread for it when none is free.
public enum BlockingWork {
    /// Runs `work` on a thread outside the task pool and resumes with its result.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "caravel.blocking-work").async { continuation.resume(returning: work()) }
        }
    }

    /// Starts `work` on a thread outside the task pool without waiting for it.
    public static func start(_ work: @escaping @Sendable () -> Void) {
        DispatchQueue(label: "caravel.blocking-work").async(execute: work)
    }
}
