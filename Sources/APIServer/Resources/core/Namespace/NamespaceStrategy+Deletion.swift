import KubeModel

/// A Namespace is never deleted at once: DELETE marks it Terminating and the namespace
/// cleaner empties it and removes the `kubernetes` finalizer through `finalize`.
extension NamespaceStrategy {
    public var subresourceHandlers: [SubresourceHandler] { [.status, Self.finalize] }

    /// PUT `namespaces/{name}/finalize`: changes `spec.finalizers` and nothing else.
    static let finalize = SubresourceHandler(.finalize, methods: [.put: "PUT"]) { endpoint, name in
        try await endpoint.update(name, target: .finalize)
    }

    public func deletionGracePeriod(of object: JSONValue, options: DeleteOptions) -> Int64? { 0 }

    public func prepareForDeletion(_ object: inout JSONValue) {
        object[path: ["status", "phase"]] = "Terminating"
    }
}
