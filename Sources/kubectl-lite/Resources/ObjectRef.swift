import KubeClient

/// One object a verb acts on.
struct ObjectRef {
    var resource: APIResourceInfo
    var namespace: String?
    var name: String

    /// `deployment.apps/web`.
    var display: String { resource.kindPrefix + "/" + name }
    var path: String { resource.path(namespace: namespace, name: name).path }

    /// The objects named by `TYPE NAME...`, `TYPE/NAME...`, or `TYPE` with `-l`/`--all`.
    static func select(_ args: [String], session: Session, selector: String? = nil, all: Bool = false,
                       allNamespaces: Bool = false) async throws -> [ObjectRef] {
        let namespace = try session.namespace()
        var out: [ObjectRef] = []
        for request in try ResourceArguments(args).requests {
            for r in try await session.resolve(request.type) {
                let scope = r.namespaced && !allNamespaces ? namespace : nil
                if !request.names.isEmpty {
                    out += request.names.map { ObjectRef(resource: r, namespace: scope, name: $0) }
                } else if all || selector != nil {
                    let items = try await ResourceReader(client: try session.client())
                        .list(r, namespace: scope, selectors: selector.map { ["labelSelector": $0] } ?? [:]).items
                    out += items.map {
                        ObjectRef(resource: r, namespace: $0["metadata"]?["namespace"]?.stringValue ?? scope,
                                  name: $0["metadata"]?["name"]?.stringValue ?? "")
                    }
                } else {
                    throw CommandFailure.error("resource(s) were provided, but no name was specified")
                }
            }
        }
        return out
    }
}
