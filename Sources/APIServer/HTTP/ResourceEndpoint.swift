import Foundation
import Hummingbird
import KubeModel
import NIOCore

/// One resource request: picks the verb from method, path and query, decodes the body,
/// calls the registry and renders the answer.
struct ResourceEndpoint {
    let registry: Registry
    let strategy: any ResourceStrategy
    let info: RequestInfo
    let query: QueryParameters
    let request: Request
    /// The authenticated caller (nil with `--tls=false`), handed to admission.
    var user: UserInfo? = nil
    /// The server's authorizer, for kinds that answer questions to it (access reviews).
    var authorizer: any Authorizer = AlwaysAllowAuthorizer()

    var def: ResourceDefinition { strategy.definition }

    func serve(label: inout RequestLabel) async throws -> Response {
        if let storage = strategy.storage { return try await storage.serve(self, &label) }
        let shape = try MediaTypes.shape(accept: request.headers[.accept])
        let ns = info.namespace
        if request.method == .get, info.name == nil || info.legacyWatch {
            let watch = try query.bool("watch") || info.legacyWatch
            label.verb = watch ? "WATCH" : "LIST"
            var options = try ListOptions(query: query, strategy: strategy)
            if let name = info.name {
                // The old `/watch/.../{name}` form watches one object.
                options.fieldSelector = try? FieldSelector.parse("metadata.name=\(name)")
            }
            if watch { return try await WatchStreamer.stream(registry: registry, strategy: strategy, version: info.version, namespace: ns, options: options, shape: shape, query: query) }
            if sendsStoredBytes(shape) {
                return renderList(try await registry.listSerialized(strategy, namespace: ns, options: options))
            }
            let result = try await registry.list(strategy, version: info.version, namespace: ns, options: options)
            return renderList(result, shape: shape)
        }
        if let sub = info.subresource, let name = info.name {
            guard let handler = strategy.subresourceHandlers.first(where: { $0.subresource.rawValue == sub }),
                  let verb = handler.methods[request.method] else {
                throw APIError.methodNotSupported(def, request.method.rawValue)
            }
            label.verb = verb
            return try await handler.serve(self, name)
        }
        switch (request.method, info.name) {
        case (.get, let name?):
            label.verb = "GET"
            return try await get(name)
        case (.post, nil):
            label.verb = "POST"
            let r = try await registry.create(strategy, version: info.version, namespace: ns, body: try await body(), options: try writeOptions())
            return ResponseBuilder.written(r)
        case (.put, let name?):
            label.verb = "PUT"
            return try await update(name, target: .main)
        case (.patch, let name?):
            label.verb = "PATCH"
            return try await patch(name, target: .main)
        case (.delete, let name?):
            label.verb = "DELETE"
            let r = try await registry.delete(strategy, version: info.version, namespace: ns, name: name, options: try await deleteOptions())
            return ResponseBuilder.json(r.object, code: r.code)
        case (.delete, nil):
            label.verb = "DELETECOLLECTION"
            let options = try ListOptions(query: query, strategy: strategy)
            let r = try await registry.deleteCollection(strategy, version: info.version, namespace: ns, listOptions: options, deleteOptions: try await deleteOptions())
            return renderList(r, shape: .object)
        default:
            throw APIError.methodNotSupported(def, request.method.rawValue)
        }
    }

    // MARK: verbs on one object, shared by the main resource and subresource handlers

    /// GET of the object, rendered as the client's Accept asks.
    func get(_ name: String) async throws -> Response {
        let shape = try MediaTypes.shape(accept: request.headers[.accept])
        if sendsStoredBytes(shape) {
            return ResponseBuilder.stored(try await registry.getSerialized(strategy, namespace: info.namespace, name: name).bytes)
        }
        return render(try await registry.get(strategy, version: info.version, namespace: info.namespace, name: name), shape: shape)
    }

    /// PUT of the object or one part of it.
    func update(_ name: String, target: Registry.UpdateTarget) async throws -> Response {
        let r = try await registry.update(strategy, version: info.version, namespace: info.namespace, name: name, body: try await body(),
                                          target: target, options: try writeOptions())
        return ResponseBuilder.written(r)
    }

    /// PATCH (server-side apply included) of the object or its status.
    func patch(_ name: String, target: Registry.UpdateTarget) async throws -> Response {
        let (patch, type) = try await patchBody()
        let r: WriteResult
        if type == .apply {
            // Apply needs an explicit fieldManager: no default from the User-Agent.
            r = try await registry.apply(strategy, version: info.version, namespace: info.namespace, name: name, config: patch,
                                         target: target, force: try query.bool("force"), manager: query["fieldManager"] ?? "",
                                         options: try writeOptions())
        } else {
            r = try await registry.patch(strategy, version: info.version, namespace: info.namespace, name: name, patch: patch,
                                         type: type, target: target, options: try writeOptions())
        }
        return ResponseBuilder.written(r)
    }

    // MARK: rendering

    /// Whether the answer is the store's bytes as they are: JSON objects in the version the
    /// store keeps, so nothing needs parsing, converting or re-encoding.
    func sendsStoredBytes(_ shape: ResponseShape) -> Bool {
        shape == .object && !ResponseBuilder.servesYAML && info.version == def.storageVersion
    }

    func render(_ object: JSONValue, shape: ResponseShape) -> Response {
        switch shape {
        case .object: return ResponseBuilder.json(object)
        case .table: return ResponseBuilder.json(TableConverter.table([object], strategy: strategy, includeObject: query["includeObject"] ?? "Metadata", listMeta: [:]))
        case .partialMetadata: return ResponseBuilder.json(TableConverter.partialMetadata(object))
        }
    }

    func renderList(_ result: Registry.ListResult, shape: ResponseShape) -> Response {
        let meta = listMeta(result.resourceVersion, continueToken: result.continueToken)
        switch shape {
        case .object:
            return ResponseBuilder.json(["kind": .string(def.kind + "List"), "apiVersion": .string(def.apiVersion(info.version)),
                                         "metadata": meta, "items": .array(result.items)])
        case .table:
            return ResponseBuilder.json(TableConverter.table(result.items, strategy: strategy, includeObject: query["includeObject"] ?? "Metadata", listMeta: meta))
        case .partialMetadata:
            return ResponseBuilder.json(TableConverter.partialMetadataList(result.items, listMeta: meta))
        }
    }

    /// A `<Kind>List` whose items are the store's bytes.
    func renderList(_ result: Registry.SerializedListResult) -> Response {
        ResponseBuilder.raw(ResponseBuilder.listBody(kind: def.kind + "List", apiVersion: def.apiVersion(info.version),
                                                     metadata: listMeta(result.resourceVersion, continueToken: result.continueToken),
                                                     items: result.items.map(\.bytes)))
    }

    func listMeta(_ resourceVersion: Int64, continueToken: String?) -> JSONValue {
        var meta: JSONValue = ["resourceVersion": .string(String(resourceVersion))]
        if let c = continueToken { meta["continue"] = .string(c) }
        return meta
    }

    // MARK: request parts

    func rawBody() async throws -> ByteBuffer {
        var req = request
        do {
            return try await req.collectBody(upTo: APIResponder.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge()
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError.tooLarge()
        }
    }

    /// The request's media type without parameters.
    var contentTypeHeader: String {
        MediaTypes.withoutParameters(request.headers[.contentType] ?? "application/json")
    }

    func body() async throws -> JSONValue {
        let buffer = try await rawBody()
        let contentType = contentTypeHeader
        guard contentType == "application/json" else { return try BodyDecoder.decode(buffer, contentType: contentType) }
        let parsed: (JSONValue, [String])
        do { parsed = try JSONParser.parseReportingDuplicates(buffer.readableBytesView) } catch {
            throw APIError.badRequest("error decoding request body: \(error.description)")
        }
        // Go's strict decoder refuses a key given twice; a lenient one keeps the last.
        if !parsed.1.isEmpty, try writeOptions().fieldValidation == .strict {
            throw APIError.badRequest("strict decoding error: " + parsed.1.map { "json: duplicate field \"\($0)\"" }.joined(separator: ", "))
        }
        return parsed.0
    }

    func patchBody() async throws -> (JSONValue, PatchType) {
        let contentType = MediaTypes.withoutParameters(request.headers[.contentType] ?? "")
        guard let type = PatchType(rawValue: contentType) else { throw APIError.unsupportedMediaType(contentType) }
        let buffer = try await rawBody()
        return (try BodyDecoder.decode(buffer, contentType: type == .apply ? "application/yaml" : "application/json"), type)
    }

    func writeOptions() throws(APIError) -> WriteOptions {
        var o = WriteOptions()
        if let d = query["dryRun"] {
            guard d == "All" else { throw APIError.badRequest("Invalid dryRun value: \"\(d)\"; supported values: \"All\"") }
            o.dryRun = true
        }
        if let v = query["fieldValidation"], !v.isEmpty {
            guard let fv = FieldValidation(rawValue: v) else {
                let kind = request.method == .post ? "CreateOptions" : request.method == .patch ? "PatchOptions" : "UpdateOptions"
                let def = ResourceDefinition(group: "meta.k8s.io", versions: ["v1"], kind: kind, plural: kind.lowercased(), namespaced: false, schemaNames: [:])
                throw APIError.invalid(def, "", [.notSupported("fieldValidation", "\"\(v)\"", ["Ignore", "Strict", "Warn"])])
            }
            o.fieldValidation = fv
        }
        // Like kube, a write without fieldManager is owned by the client's User-Agent name.
        o.fieldManager = query["fieldManager"] ?? Self.defaultFieldManager(userAgent: request.headers[.userAgent])
        o.user = user
        return o
    }

    /// The User-Agent up to its first `/` (`kubectl/v1.33 ...` -> `kubectl`), at most 128 bytes.
    static func defaultFieldManager(userAgent: String?) -> String? {
        guard let ua = userAgent, let name = ua.split(separator: "/").first, !name.isEmpty else { return nil }
        return String(String(name).utf8.prefix(128)) ?? nil
    }

    func deleteOptions() async throws -> DeleteOptions {
        var o = DeleteOptions()
        let buffer = try await rawBody()
        if buffer.readableBytes > 0 {
            // client-go's typed clients send DeleteOptions as protobuf, the others as JSON.
            let body = try BodyDecoder.decode(buffer, contentType: contentTypeHeader)
            if let p = body["propagationPolicy"]?.stringValue { o.propagation = try propagation(p) }
            if body["orphanDependents"]?.boolValue == true { o.propagation = .orphan }
            o.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            o.preconditionUID = body[path: ["preconditions", "uid"]]?.stringValue
            o.preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.stringValue
            if let d = body["dryRun"]?.arrayValue, d.contains("All") { o.dryRun = true }
        }
        if let p = query["propagationPolicy"] { o.propagation = try propagation(p) }
        if let g = try query.int("gracePeriodSeconds") { o.gracePeriodSeconds = g }
        if try query.bool("orphanDependents") { o.propagation = .orphan }
        if query["dryRun"] != nil { o.dryRun = try writeOptions().dryRun }
        o.user = user
        return o
    }

    func propagation(_ p: String) throws(APIError) -> DeleteOptions.Propagation {
        guard let v = DeleteOptions.Propagation(rawValue: p) else {
            throw APIError.badRequest("propagationPolicy: Unsupported value: \"\(p)\": supported values: \"Foreground\", \"Background\", \"Orphan\"")
        }
        return v
    }
}
