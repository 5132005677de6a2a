import KubeModel

/// A Service's cluster IPs and node ports: reserved before its write, freed after its delete
/// (see `ServiceAllocations`).
extension ServiceStrategy {
    public func allocate(_ object: inout JSONValue, old: JSONValue?, name: String,
                         environment: ServerEnvironment) throws(APIError) -> AllocationTicket? {
        let allocations = environment.serviceAllocations
        guard let ticket = try allocations.reserve(&object, old: old, def: definition, name: name) else { return nil }
        return AllocationTicket(rollback: { allocations.rollback(ticket) }, commit: { allocations.commit(ticket) })
    }

    public func release(_ object: JSONValue, environment: ServerEnvironment) {
        environment.serviceAllocations.release(object)
    }

    public var subresourceHandlers: [SubresourceHandler] { [.status] }
}
