/// What one write reserved through a strategy's `allocate` hook: undone when the write
/// fails, settled (freeing what the write gave up) once it commits.
public struct AllocationTicket: Sendable {
    let rollback: @Sendable () -> Void
    let commit: @Sendable () -> Void

    public init(rollback: @escaping @Sendable () -> Void, commit: @escaping @Sendable () -> Void) {
        self.rollback = rollback
        self.commit = commit
    }
}
