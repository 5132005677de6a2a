/// What one write reserved through a strategy's `allocate` hook: undone when the write
/// fails, settled (freeing what the write gave up) once it commits.
public struct AllocationTicket: Sendable {
    let rollback: @Sendable () async -> Void
    let commit: @Sendable () async -> Void

    public init(rollback: @escaping @Sendable () async -> Void, commit: @escaping @Sendable () async -> Void) {
        self.rollback = rollback
        self.commit = commit
    }
}
