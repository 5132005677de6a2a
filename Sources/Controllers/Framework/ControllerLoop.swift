import KubeClient
import Logging

/// Runs one reconciler with `workers` workers over its work queue: each worker takes a key,
/// reconciles it, forgets its backoff on success or requeues it with backoff on failure, and
/// marks it done, so a key is never reconciled by two workers at once.
struct ControllerLoop<C: Clock>: Sendable where C.Duration == Duration {
    let name: String
    let queue: WorkQueue<String, C>
    let reconciler: any Reconciler
    let workers: Int
    let logger: Logger

    /// Runs the workers and the queue's delay loop until cancelled; shuts the queue down then.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run() }
            for _ in 0..<max(1, workers) {
                group.addTask { await worker() }
            }
            await withTaskCancellationHandler {
                await group.waitForAll()
            } onCancel: {
                queue.shutdown()
            }
        }
    }

    private func worker() async {
        while let key = await queue.get() {
            await process(key)
            queue.done(key)
        }
    }

    func process(_ key: String) async {
        do {
            let result = try await reconciler.reconcile(key: key)
            queue.forget(key)
            if let delay = result.requeueAfter { queue.addAfter(key, delay) }
        } catch is CancellationError {
            return
        } catch {
            let attempts = queue.numRequeues(key)
            // Conflicts are routine (our cache was a step behind): not worth a warning.
            let level: Logger.Level = (error as? KubeAPIError)?.isConflict == true || attempts < 3 ? .debug : .warning
            logger.log(level: level, "reconcile failed", metadata: [
                "controller": .string(name), "key": .string(key), "attempt": .stringConvertible(attempts + 1),
                "error": .string("\(error)"),
            ])
            queue.addRateLimited(key)
        }
    }
}
