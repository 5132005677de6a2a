/// Polls `condition` until it holds or three times `timeout` (real time) passes. The bound is
/// generous: it costs nothing when the condition holds, and the suites share a loaded 2-core
/// machine, where an in-process control plane may take many times its usual time. The pause
/// between polls grows from 5 ms to 100 ms, so that waiting tests do not load the servers that
/// others are waiting on. A cancelled wait (a test past its time limit) checks once more and
/// returns at once.
public func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout * 3
    var pause = Duration.milliseconds(5)
    while ContinuousClock.now < deadline && !Task.isCancelled {
        if try await condition() { return true }
        try? await Task.sleep(for: pause)
        pause = min(pause * 2, .milliseconds(100))
    }
    return try await condition()
}
