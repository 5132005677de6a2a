import Foundation

/// Runs the node's heartbeats (Lease renewals, status posts) on a thread of their own.
///
/// On the global executor a renewal's every step (timer, gate, response, parse) waits in one
/// queue behind the pods' work; a kubelet busy with thousands of pods then renews its Lease
/// seconds late, and the node lifecycle controller takes a loaded node for a dead one. Task
/// priorities do not help on Linux: the global queues of each priority share the same cores
/// first come, first served. A dedicated thread is scheduled by the kernel alongside the
/// pool's, so a heartbeat waits for a core, never for the pods' backlog. Tasks opt in with
/// `withTaskExecutorPreference` or `addTask(executorPreference:)`; the actors they call run
/// here too while they do.
public final class HeartbeatExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var stopped = false

    public init(name: String = "caravel-heartbeats") {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        condition.lock()
        if stopped {
            condition.unlock()
            // A straggler after shutdown still runs, on the shared pool.
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(UnownedJob(job))
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run; later jobs go to the global
    /// executor. Returns at once.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// The thread has ended (after `shutdown()`).
    var hasStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                stopped = true
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
