import Hummingbird

/// Serves every request to a kind that the store never holds (reviews answered on the spot,
/// metrics read from memory) in place of the registry. A strategy opts in with `storage`.
public struct ResourceStorage: Sendable {
    /// The verbs discovery lists for the kind.
    public let verbs: [String]
    let serve: @Sendable (ResourceEndpoint, inout RequestLabel) async throws -> Response

    init(verbs: [String], serve: @escaping @Sendable (ResourceEndpoint, inout RequestLabel) async throws -> Response) {
        self.verbs = verbs
        self.serve = serve
    }
}
