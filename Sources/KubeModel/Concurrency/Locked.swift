import Synchronization

/// A value shared across concurrency domains behind a lock: for results that escape the
/// synchronous closures the store runs on its writer queue, and the few bits of state touched
/// from Foundation and Dispatch callbacks outside any actor.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }

    @discardableResult
    public func withLock<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { try body(&$0) }
    }
}
