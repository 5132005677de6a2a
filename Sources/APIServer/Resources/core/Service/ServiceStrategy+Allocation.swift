import KubeModel

/// A Service's cluster IPs and node ports: reserved before its write, freed after its delete
/// (see `ServiceAllocations`).
extension ServiceStrategy {
    public func allocate(_ object: inout JSONValue, old: JSONValue?, name: String,
                         environment: ServerEnvironment) async throws(APIError) -> AllocationTicket? {
        let allocations = environment.serviceAllocations
        guard let ticket = try await allocations.reserve(&object, old: old, def: definition, name: name) else { return nil }
        return AllocationTicket(rollback: { await allocations.rollback(ticket) }, commit: { await allocations.commit(ticket) })
    }

    public func release(_ object: JSONValue, environment: ServerEnvironment) async {
        await environment.serviceAllocations.release(object)
    }

    public var subresourceHandlers: [SubresourceHandler] { [.status] }
}
