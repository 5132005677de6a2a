import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// A `ResourceClient` for unit tests of reconcilers (client-go's fake clientset): every
/// request is recorded as a `ClientAction`, then answered by the first reactor that claims it
/// (to inject errors or canned answers) or else by the in-memory `tracker`. Tests assert the
/// exact actions, as sample-controller's `checkAction` does.
public final class RecordingClient: ResourceClient {
    /// Answers an action: a value to return, an error to throw, or nil to pass it on.
    public typealias Reactor = @Sendable (ClientAction) throws -> JSONValue?

    /// The objects served.
    public let tracker: ObjectTracker
    private let recorded = NIOLockedValueBox<[ClientAction]>([])
    private let reactors = NIOLockedValueBox<[(verb: String, plural: String, react: Reactor)]>([])

    /// A client over `tracker` (an empty one by default).
    public init(tracker: ObjectTracker = ObjectTracker()) {
        self.tracker = tracker
    }

    /// Every action so far, in the order received.
    public var actions: [ClientAction] { recorded.withLockedValue { $0 } }

    /// The actions on `plural`, or on everything but Events when nil (events are best effort
    /// and rarely what a test is about).
    public func actions(on plural: String? = nil) -> [ClientAction] {
        actions.filter { action in
            if let plural { return action.resource.plural == plural }
            return action.resource.plural != "events"
        }
    }

    /// Forgets the actions so far (not the objects).
    public func clearActions() { recorded.withLockedValue { $0.removeAll() } }

    /// Puts `react` before the others for `verb` on `plural` (`*` matches any), as client-go's
    /// `PrependReactor`.
    public func prependReactor(_ verb: String, _ plural: String, _ react: @escaping Reactor) {
        reactors.withLockedValue { $0.insert((verb, plural, react), at: 0) }
    }

    /// Makes `verb` on `plural` fail with `error` from now on.
    public func fail(_ verb: String, _ plural: String, with error: any Error) {
        prependReactor(verb, plural) { _ in throw error }
    }

    // MARK: - ResourceClient

    public func get(_ path: String, query: [String: String]) async throws -> JSONValue {
        guard let resource = ResourcePath(parsing: path) else {
            let action = ClientAction(verb: "get", resource: ResourcePath(plural: ""), query: query, path: path)
            return try serve(action) { try tracker.document(path) }
        }
        if resource.name == nil { return try await list(path, query: query) }
        return try serve(action("get", resource, query: query, path: path)) { try tracker.get(resource) }
    }

    public func list(_ path: String, query: [String: String]) async throws -> JSONValue {
        guard let resource = ResourcePath(parsing: path) else { throw ObjectTracker.notFound("no resource at \(path)") }
        return try serve(action("list", resource, query: query, path: path)) {
            try tracker.list(resource, labelSelector: query["labelSelector"])
        }
    }

    public func create(_ path: String, _ body: JSONValue, query: [String: String]) async throws -> JSONValue {
        let resource = try parse(path)
        return try serve(action("create", resource, object: body, query: query, path: path)) { try tracker.create(resource, body) }
    }

    public func update(_ path: String, _ body: JSONValue, query: [String: String]) async throws -> JSONValue {
        let resource = try parse(path)
        return try serve(action("update", resource, object: body, query: query, path: path)) { try tracker.update(resource, body) }
    }

    public func patch(_ path: String, _ body: JSONValue, type: PatchType, query: [String: String]) async throws -> JSONValue {
        let resource = try parse(path)
        var action = action("patch", resource, object: body, query: query, path: path)
        action.patchType = type
        return try serve(action) { try tracker.patch(resource, body, type: type) }
    }

    @discardableResult
    public func delete(_ path: String, options: JSONValue?, query: [String: String]) async throws -> JSONValue {
        let resource = try parse(path)
        return try serve(action("delete", resource, object: options, query: query, path: path)) { try tracker.delete(resource, options: options) }
    }

    // MARK: - plumbing

    private func parse(_ path: String) throws -> ResourcePath {
        guard let resource = ResourcePath(parsing: path) else { throw ObjectTracker.notFound("no resource at \(path)") }
        return resource
    }

    private func action(_ verb: String, _ path: ResourcePath, object: JSONValue? = nil, query: [String: String], path raw: String) -> ClientAction {
        ClientAction(verb: verb, resource: ResourcePath(group: path.group, version: path.version, plural: path.plural),
                     subresource: path.subresource, namespace: path.namespace, name: path.name, object: object, query: query, path: raw)
    }

    /// Records `action`, then answers it from the first claiming reactor, or from `fallback`.
    private func serve(_ action: ClientAction, _ fallback: () throws -> JSONValue) throws -> JSONValue {
        recorded.withLockedValue { $0.append(action) }
        let candidates = reactors.withLockedValue { $0 }
        for reactor in candidates where (reactor.verb == "*" || reactor.verb == action.verb)
            && (reactor.plural == "*" || reactor.plural == action.resource.plural) {
            if let answer = try reactor.react(action) { return answer }
        }
        return try fallback()
    }
}
