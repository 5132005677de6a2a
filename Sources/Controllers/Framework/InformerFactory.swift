import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// One informer per resource, shared by every controller that watches it (client-go's shared
/// informer factory): the many controllers reading pods cost one list and one watch, and all
/// see the same cache. Informers are made on first request, while controllers are wired;
/// `all`, read once wiring is done, is what the manager runs (an informer asked for later
/// would never list or watch).
final class InformerFactory: Sendable {
    private let make: @Sendable (ResourcePath) -> Informer<ContinuousClock>
    // Creation order is kept so informers start (and sync) in a stable order.
    private let made = NIOLockedValueBox<(order: [ResourcePath], byResource: [ResourcePath: Informer<ContinuousClock>])>(([], [:]))

    /// A factory building each informer with `make`.
    init(make: @escaping @Sendable (ResourcePath) -> Informer<ContinuousClock>) {
        self.make = make
    }

    /// The informer of `resource` (a collection: across all namespaces, or in the one it
    /// names), made on first use.
    func informer(for resource: ResourcePath) -> Informer<ContinuousClock> {
        made.withLockedValue { state in
            if let existing = state.byResource[resource] { return existing }
            let informer = make(resource)
            state.byResource[resource] = informer
            state.order.append(resource)
            return informer
        }
    }

    /// Every informer made so far, in the order first asked for.
    var all: [Informer<ContinuousClock>] {
        made.withLockedValue { state in state.order.compactMap { state.byResource[$0] } }
    }
}
