/// Restart delays of one container, as the kubelet applies them: the first restart after an
/// exit is immediate, then 10 s doubling up to 5 min; a run of 10 min or more forgets the
/// history. While a delay runs the container waits with reason `CrashLoopBackOff`.
struct CrashLoopBackoff: Sendable, Equatable {
    static let base: Duration = .seconds(10)
    static let cap: Duration = .seconds(300)
    /// A container that ran this long before exiting starts over from no delay.
    static let resetAfter: Duration = .seconds(600)

    /// The delay before the next restart; zero before any failure was counted.
    private(set) var current: Duration = .zero

    /// Records an exit after a run of `ranFor` and returns the delay before restarting.
    mutating func next(ranFor: Duration) -> Duration {
        if ranFor >= Self.resetAfter { current = .zero }
        let delay = current
        current = current == .zero ? Self.base : min(current * 2, Self.cap)
        return delay
    }
}
