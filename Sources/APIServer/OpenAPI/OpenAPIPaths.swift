import KubeModel

/// A resource at one served version, with the component names its paths refer to.
struct ServedResource: Sendable {
    let definition: ResourceDefinition
    let version: String
    /// `components.schemas` key of the object type.
    let typeName: String
    /// `components.schemas` key of the list type.
    let listTypeName: String
}

/// Builds the `paths` of one group-version document, in the shape kube-apiserver serves:
/// one path item per URL, operations carrying `x-kubernetes-action` and
/// `x-kubernetes-group-version-kind`, path parameters on the path item.
struct OpenAPIPathBuilder {
    let group: String
    let version: String

    static let meta = "io.k8s.apimachinery.pkg.apis.meta.v1."
    static let statusType = meta + "Status"
    static let deleteOptionsType = meta + "DeleteOptions"
    static let patchType = meta + "Patch"
    static let resourceListType = meta + "APIResourceList"
    static let patchContentTypes = [
        "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ]

    var prefix: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// `CoreV1`, `AppsV1`, `RbacAuthorizationV1`: the middle of kube's operation ids.
    var idGroup: String {
        let g = group.isEmpty ? "core" : group.replacingSuffix(".k8s.io")
        return g.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + version.capitalizedFirst
    }

    /// `core_v1`, `apps_v1`, `rbacAuthorization_v1`.
    var tag: String { idGroup.dropLast(version.count).lowercasedFirst + "_" + version }

    /// The discovery path `/apis/<group>/<version>/`.
    func resourceListPath() -> (String, JSONValue) {
        let op = operation(
            id: "get\(idGroup)APIResources", description: "List the resources served by \(prefix.dropFirst()).",
            action: nil, gvk: nil, params: [], body: nil,
            responses: responses(["200": OpenAPISchemaConverter.ref(Self.resourceListType)]))
        return ("\(prefix)/", ["get": op])
    }

    func paths(for r: ServedResource) -> [String: JSONValue] {
        let d = r.definition
        let kind = d.kind
        let gvk = (group, version, kind)
        let obj = OpenAPISchemaConverter.ref(r.typeName)
        let list = OpenAPISchemaConverter.ref(r.listTypeName)
        let status = OpenAPISchemaConverter.ref(Self.statusType)
        let ns = d.namespaced ? "Namespaced" : ""
        let base = d.namespaced ? "\(prefix)/namespaces/{namespace}/\(d.plural)" : "\(prefix)/\(d.plural)"
        let nsParams = d.namespaced ? [Self.pathParam("namespace", "Namespace of the \(kind).")] : []
        let nameParams = [Self.pathParam("name", "Name of the \(kind).")] + nsParams
        var out: [String: JSONValue] = [:]

        out[base] = pathItem(
            [
                "get": operation(
                    id: "list\(idGroup)\(ns)\(kind)", description: "List or watch \(kind) objects.", action: "list",
                    gvk: gvk, params: Self.listParams, body: nil, responses: responses(["200": list], watch: true)),
                "post": operation(
                    id: "create\(idGroup)\(ns)\(kind)", description: "Create a \(kind).", action: "post", gvk: gvk,
                    params: Self.writeParams, body: Self.body(obj), responses: responses(["200": obj, "201": obj, "202": obj])),
                "delete": operation(
                    id: "deletecollection\(idGroup)\(ns)\(kind)", description: "Delete a collection of \(kind) objects.",
                    action: "deletecollection", gvk: gvk, params: Self.deleteParams + Self.listParams,
                    body: Self.body(OpenAPISchemaConverter.ref(Self.deleteOptionsType)), responses: responses(["200": status])),
            ], params: nsParams)
        if d.namespaced {
            out["\(prefix)/\(d.plural)"] = pathItem(
                [
                    "get": operation(
                        id: "list\(idGroup)\(kind)ForAllNamespaces", description: "List or watch \(kind) objects in all namespaces.",
                        action: "list", gvk: gvk, params: Self.listParams, body: nil, responses: responses(["200": list], watch: true))
                ], params: [])
        }
        out["\(base)/{name}"] = pathItem(
            [
                "get": operation(
                    id: "read\(idGroup)\(ns)\(kind)", description: "Read the specified \(kind).", action: "get", gvk: gvk,
                    params: [], body: nil, responses: responses(["200": obj])),
                "put": operation(
                    id: "replace\(idGroup)\(ns)\(kind)", description: "Replace the specified \(kind).", action: "put", gvk: gvk,
                    params: Self.writeParams, body: Self.body(obj), responses: responses(["200": obj, "201": obj])),
                "patch": patchOperation(id: "patch\(idGroup)\(ns)\(kind)", what: "the specified \(kind)", gvk: gvk, result: obj),
                "delete": operation(
                    id: "delete\(idGroup)\(ns)\(kind)", description: "Delete the specified \(kind).", action: "delete", gvk: gvk,
                    params: Self.deleteParams, body: Self.body(OpenAPISchemaConverter.ref(Self.deleteOptionsType)),
                    responses: responses(["200": status, "202": status])),
            ], params: nameParams)

        for sub in d.subresources.sorted(by: { $0.rawValue < $1.rawValue }) {
            let path = "\(base)/{name}/\(sub.rawValue)"
            let suffix = sub.rawValue.capitalizedFirst
            switch sub {
            case .status, .approval:
                out[path] = readWriteItem(kind: kind, suffix: suffix, ns: ns, gvk: gvk, schema: obj, params: nameParams)
            case .scale:
                let scale = OpenAPISchemaConverter.ref("io.k8s.api.autoscaling.v1.Scale")
                out[path] = readWriteItem(
                    kind: kind, suffix: suffix, ns: ns, gvk: ("autoscaling", "v1", "Scale"), schema: scale, params: nameParams)
            case .binding, .eviction, .token:
                guard let (type, g) = Self.postSubresources[sub] else { continue }
                let ref = OpenAPISchemaConverter.ref(type)
                out[path] = pathItem(
                    [
                        "post": operation(
                            id: "create\(idGroup)\(ns)\(kind)\(suffix)", description: "Create \(sub.rawValue) of a \(kind).",
                            action: "post", gvk: g, params: Self.writeParams, body: Self.body(ref),
                            responses: responses(["200": ref, "201": ref, "202": ref]))
                    ], params: nameParams)
            case .log:
                out[path] = pathItem(
                    [
                        "get": operation(
                            id: "read\(idGroup)\(ns)\(kind)Log", description: "Read the log of a \(kind).", action: "get",
                            gvk: gvk, params: Self.logParams, body: nil, responses: responses(["200": ["type": "string"]]))
                    ], params: nameParams)
            case .exec, .attach, .portforward:
                let optionsKind = "\(kind)\(["exec": "Exec", "attach": "Attach", "portforward": "PortForward"][sub.rawValue] ?? suffix)Options"
                var ops: [String: JSONValue] = [:]
                for method in ["get", "post"] {
                    ops[method] = operation(
                        id: "connect\(method.capitalizedFirst)\(idGroup)\(ns)\(kind)\(suffix)",
                        description: "Connect \(method.uppercased()) requests to \(sub.rawValue) of a \(kind).", action: "connect",
                        gvk: (group, version, optionsKind), params: [], body: nil, responses: responses(["200": ["type": "string"]]))
                }
                out[path] = pathItem(ops, params: nameParams)
            case .finalize:
                out[path] = pathItem(
                    [
                        "put": operation(
                            id: "replace\(idGroup)\(ns)\(kind)\(suffix)", description: "Replace finalize of the specified \(kind).",
                            action: "put", gvk: gvk, params: Self.writeParams, body: Self.body(obj),
                            responses: responses(["200": obj, "201": obj]))
                    ], params: nameParams)
            }
        }
        return out
    }

    /// Types served by POST-only subresources: binding, eviction, token.
    static let postSubresources: [Subresource: (String, (String, String, String))] = [
        .binding: ("io.k8s.api.core.v1.Binding", ("", "v1", "Binding")),
        .eviction: ("io.k8s.api.policy.v1.Eviction", ("policy", "v1", "Eviction")),
        .token: ("io.k8s.api.authentication.v1.TokenRequest", ("authentication.k8s.io", "v1", "TokenRequest")),
    ]

    private func readWriteItem(
        kind: String, suffix: String, ns: String, gvk: (String, String, String), schema: JSONValue, params: [JSONValue]
    ) -> JSONValue {
        pathItem(
            [
                "get": operation(
                    id: "read\(idGroup)\(ns)\(kind)\(suffix)", description: "Read \(suffix.lowercased()) of the specified \(kind).",
                    action: "get", gvk: gvk, params: [], body: nil, responses: responses(["200": schema])),
                "put": operation(
                    id: "replace\(idGroup)\(ns)\(kind)\(suffix)", description: "Replace \(suffix.lowercased()) of the specified \(kind).",
                    action: "put", gvk: gvk, params: Self.writeParams, body: Self.body(schema),
                    responses: responses(["200": schema, "201": schema])),
                "patch": patchOperation(
                    id: "patch\(idGroup)\(ns)\(kind)\(suffix)", what: "\(suffix.lowercased()) of the specified \(kind)", gvk: gvk,
                    result: schema),
            ], params: params)
    }

    /// kubectl decides on server-side field validation by finding `fieldValidation` among the
    /// parameters of a PATCH operation with the kind's GVK, so every PATCH lists it.
    private func patchOperation(id: String, what: String, gvk: (String, String, String), result: JSONValue) -> JSONValue {
        let patch = OpenAPISchemaConverter.ref(Self.patchType)
        var content: [String: JSONValue] = [:]
        for t in Self.patchContentTypes { content[t] = ["schema": patch] }
        return operation(
            id: id, description: "Partially update \(what).", action: "patch", gvk: gvk, params: Self.patchParams,
            body: ["content": .object(content), "required": true], responses: responses(["200": result, "201": result]))
    }

    private func operation(
        id: String, description: String, action: String?, gvk: (String, String, String)?, params: [JSONValue],
        body: JSONValue?, responses: JSONValue
    ) -> JSONValue {
        var op: [String: JSONValue] = [
            "tags": [.string(tag)], "description": .string(description), "operationId": .string(id), "responses": responses,
        ]
        if !params.isEmpty { op["parameters"] = .array(params) }
        if let body { op["requestBody"] = body }
        if let action { op["x-kubernetes-action"] = .string(action) }
        if let (g, v, k) = gvk {
            op["x-kubernetes-group-version-kind"] = ["group": .string(g), "version": .string(v), "kind": .string(k)]
        }
        return .object(op)
    }

    private func pathItem(_ ops: [String: JSONValue], params: [JSONValue]) -> JSONValue {
        var item = ops
        item["parameters"] = .array(params + [Self.queryParam("pretty", "string", "If 'true', the output is indented.")])
        return .object(item)
    }

    private func responses(_ codes: [String: JSONValue], watch: Bool = false) -> JSONValue {
        var out: [String: JSONValue] = ["401": ["description": "Unauthorized"]]
        let names = ["200": "OK", "201": "Created", "202": "Accepted"]
        for (code, schema) in codes {
            var content: [String: JSONValue] = ["application/json": ["schema": schema], "application/yaml": ["schema": schema]]
            if watch { content["application/json;stream=watch"] = ["schema": schema] }
            out[code] = ["description": .string(names[code] ?? "OK"), "content": .object(content)]
        }
        return .object(out)
    }

    static func body(_ schema: JSONValue) -> JSONValue {
        ["content": ["*/*": ["schema": schema]], "required": true]
    }

    static func pathParam(_ name: String, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "path", "description": .string(description), "required": true,
         "schema": ["type": "string", "uniqueItems": true]]
    }

    static func queryParam(_ name: String, _ type: String, _ description: String) -> JSONValue {
        ["name": .string(name), "in": "query", "description": .string(description),
         "schema": ["type": .string(type), "uniqueItems": true]]
    }

    static let dryRun = queryParam("dryRun", "string", "When set to All, the request is processed but nothing is persisted.")
    static let fieldManager = queryParam("fieldManager", "string", "Name of the actor making the change, recorded in managedFields.")
    static let fieldValidation = queryParam(
        "fieldValidation", "string", "How unknown or duplicate fields are handled: Ignore, Warn (default) or Strict.")
    static let writeParams = [dryRun, fieldManager, fieldValidation]
    static let patchParams = writeParams + [queryParam("force", "boolean", "Take ownership of conflicting fields in an apply patch.")]
    static let deleteParams = [
        dryRun,
        queryParam("gracePeriodSeconds", "integer", "Seconds to wait before the object is deleted."),
        queryParam("orphanDependents", "boolean", "Deprecated: use propagationPolicy."),
        queryParam("propagationPolicy", "string", "Garbage collection of dependents: Orphan, Background or Foreground."),
    ]
    static let listParams = [
        queryParam("allowWatchBookmarks", "boolean", "Ask for BOOKMARK events in a watch."),
        queryParam("continue", "string", "Token from a previous paged list to fetch the next page."),
        queryParam("fieldSelector", "string", "Restrict the list by field values."),
        queryParam("labelSelector", "string", "Restrict the list by labels."),
        queryParam("limit", "integer", "Maximum number of items to return."),
        queryParam("resourceVersion", "string", "Resource version the list or watch is served from."),
        queryParam("resourceVersionMatch", "string", "How resourceVersion is applied to a list."),
        queryParam("sendInitialEvents", "boolean", "Start a watch with the current objects as ADDED events."),
        queryParam("timeoutSeconds", "integer", "Time limit for the list or watch call."),
        queryParam("watch", "boolean", "Watch for changes instead of listing."),
    ]
    static let logParams = [
        queryParam("container", "string", "Container to read the log of."),
        queryParam("follow", "boolean", "Stream the log."),
        queryParam("previous", "boolean", "Read the log of the previous instance of the container."),
        queryParam("sinceSeconds", "integer", "Only lines newer than this many seconds."),
        queryParam("tailLines", "integer", "Only the last lines."),
        queryParam("timestamps", "boolean", "Prefix each line with its timestamp."),
    ]
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
    fileprivate var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
    fileprivate func replacingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}

extension Substring {
    fileprivate var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}
