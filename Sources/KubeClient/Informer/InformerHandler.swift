import KubeModel

/// Callbacks of an informer. They run on the informer's task, in event order, so they should be
/// quick: controllers only turn the object into a key and add it to a `WorkQueue`.
public struct InformerHandler: Sendable {
    /// An object appeared (first list, or ADDED).
    public var onAdd: @Sendable (JSONValue) async -> Void
    /// An object changed (old, new); resyncs and relists deliver unchanged objects as updates too.
    public var onUpdate: @Sendable (JSONValue, JSONValue) async -> Void
    /// An object went away; the value is its last known state.
    public var onDelete: @Sendable (JSONValue) async -> Void

    /// Handlers; omitted ones do nothing.
    public init(onAdd: @escaping @Sendable (JSONValue) async -> Void = { _ in },
                onUpdate: @escaping @Sendable (JSONValue, JSONValue) async -> Void = { _, _ in },
                onDelete: @escaping @Sendable (JSONValue) async -> Void = { _ in }) {
        self.onAdd = onAdd
        self.onUpdate = onUpdate
        self.onDelete = onDelete
    }

    /// One callback for every kind of event, given the object as it is now (or was last).
    public static func any(_ body: @escaping @Sendable (JSONValue) async -> Void) -> InformerHandler {
        InformerHandler(onAdd: body, onUpdate: { _, new in await body(new) }, onDelete: body)
    }
}
