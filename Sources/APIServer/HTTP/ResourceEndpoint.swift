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

    var def: ResourceDefinition { strategy.definition }

    func serve(label: inout RequestLabel) async throws -> Response {
        let shape = try MediaTypes.shape(accept: request.headers[.accept])
        let ns = info.namespace
        switch (request.method, info.name, info.subresource) {
        case (.get, _, _) where info.name == nil || info.legacyWatch:
            let watch = try query.bool("watch") || info.legacyWatch
            label.verb = watch ? "WATCH" : "LIST"
            var options = try ListOptions(query: query, strategy: strategy)
            if let name = info.name {
                // The old `/watch/.../{name}` form watches one object.
                options.fieldSelector = try? FieldSelector.parse("metadata.name=\(name)")
            }
            if watch { return try await WatchStreamer.stream(registry: registry, strategy: strategy, version: info.version, namespace: ns, options: options, shape: shape, query: query) }
            let result = try await registry.list(strategy, version: info.version, namespace: ns, options: options)
            return renderList(result, shape: shape)
        case (.get, let name?, nil):
            label.verb = "GET"
            return render(try await registry.get(strategy, version: info.version, namespace: ns, name: name), shape: shape)
        case (.get, let name?, "status"?), (.get, let name?, "approval"?):
            label.verb = "GET"
            return render(try await registry.get(strategy, version: info.version, namespace: ns, name: name), shape: shape)
        case (.get, let name?, "scale"?):
            label.verb = "GET"
            return ResponseBuilder.json(try await registry.getScale(strategy, namespace: ns, name: name))
        case (.get, let name?, "log"?):
            label.verb = "GET"
            return try await PodLogProxy(registry: registry, namespace: ns ?? "", name: name, query: query, rawQuery: request.uri.query).serve()
        case (.get, let name?, "exec"?), (.post, let name?, "exec"?):
            // A WebSocket upgrade never gets here (PodExecProxy takes it before the responder):
            // this is SPDY (kubectl's fallback) or a plain request. The pod's own errors first.
            label.verb = request.method == .post ? "CREATE" : "GET"
            _ = try await KubeletTarget.resolve(registry: registry, namespace: ns ?? "", pod: name, container: query["container"])
            throw APIError.badRequest("Upgrade request required: exec needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); SPDY is not supported")
        case (.get, let name?, "portforward"?), (.post, let name?, "portforward"?):
            label.verb = request.method == .post ? "CREATE" : "GET"
            _ = try await PodPortForwardProxy.kubelet(registry, namespace: ns ?? "", pod: name)
            throw APIError.badRequest("Upgrade request required: port-forward needs a WebSocket upgrade (SPDY/3.1+portforward.k8s.io or v4.channel.k8s.io); plain SPDY is not supported")
        case (.get, let name?, "attach"?), (.post, let name?, "attach"?):
            label.verb = request.method == .post ? "CREATE" : "GET"
            _ = try await KubeletTarget.resolve(registry: registry, namespace: ns ?? "", pod: name, container: query["container"])
            throw APIError.badRequest("Upgrade request required: attach needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); SPDY is not supported")
        case (.post, nil, nil):
            label.verb = "POST"
            let r = try await registry.create(strategy, version: info.version, namespace: ns, body: try await body(), options: try writeOptions())
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        case (.post, let name?, "binding"?):
            label.verb = "POST"
            return ResponseBuilder.json(try await registry.bind(strategy, namespace: ns, name: name, body: try await body(), dryRun: try writeOptions().dryRun), code: 201)
        case (.post, let name?, "token"?) where def.plural == "serviceaccounts":
            label.verb = "POST"
            return ResponseBuilder.json(try await registry.createToken(namespace: ns ?? "", serviceAccount: name, body: try await body(),
                                                                       options: try writeOptions()), code: 201)
        case (.put, let name?, nil), (.put, let name?, "status"?):
            label.verb = "PUT"
            let target: Registry.UpdateTarget = info.subresource == "status" ? .status : .main
            let r = try await registry.update(strategy, version: info.version, namespace: ns, name: name, body: try await body(), target: target, options: try writeOptions())
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        case (.put, let name?, "approval"?):
            label.verb = "PUT"
            let r = try await CertificateSigningRequestStrategy.updateApproval(registry, strategy: strategy, version: info.version, name: name, body: try await csrBody(), options: try writeOptions())
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        case (.put, let name?, "finalize"?):
            label.verb = "PUT"
            let r = try await registry.update(strategy, version: info.version, namespace: ns, name: name, body: try await body(), target: .finalize, options: try writeOptions())
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        case (.put, let name?, "scale"?):
            label.verb = "PUT"
            let scale = try await body()
            let r = try await registry.updateScale(strategy, version: info.version, namespace: ns, name: name, options: try writeOptions()) { _ in scale }
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        case (.patch, let name?, let sub) where sub == nil || sub == "status" || sub == "scale":
            label.verb = "PATCH"
            let (patch, type) = try await patchBody()
            if type == .apply {
                guard sub != "scale" else { throw APIError.unsupportedMediaType(type.rawValue) }
                // Apply needs an explicit fieldManager: no default from the User-Agent.
                let r = try await registry.apply(strategy, version: info.version, namespace: ns, name: name, config: patch,
                                                 target: sub == "status" ? .status : .main, force: try query.bool("force"),
                                                 manager: query["fieldManager"] ?? "", options: try writeOptions())
                return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
            }
            if sub == "scale" {
                let r = try await registry.updateScale(strategy, version: info.version, namespace: ns, name: name, options: try writeOptions()) { scale in
                    try Registry.applyPatch(patch, type: type == .strategicMerge ? .merge : type, to: scale, typeName: nil)
                }
                return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
            }
            let target: Registry.UpdateTarget = sub == "status" ? .status : .main
            let r = try await registry.patch(strategy, version: info.version, namespace: ns, name: name, patch: patch, type: type, target: target, options: try writeOptions())
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        case (.delete, let name?, nil):
            label.verb = "DELETE"
            let r = try await registry.delete(strategy, version: info.version, namespace: ns, name: name, options: try await deleteOptions())
            return ResponseBuilder.json(r.object, code: r.code)
        case (.delete, nil, nil):
            label.verb = "DELETECOLLECTION"
            let options = try ListOptions(query: query, strategy: strategy)
            let r = try await registry.deleteCollection(strategy, version: info.version, namespace: ns, listOptions: options, deleteOptions: try await deleteOptions())
            return renderList(r, shape: .object)
        default:
            throw APIError.methodNotSupported(def, request.method.rawValue)
        }
    }

    // MARK: rendering

    func render(_ object: JSONValue, shape: ResponseShape) -> Response {
        switch shape {
        case .object: return ResponseBuilder.json(object)
        case .table: return ResponseBuilder.json(TableConverter.table([object], strategy: strategy, includeObject: query["includeObject"] ?? "Metadata", listMeta: [:]))
        case .partialMetadata: return ResponseBuilder.json(TableConverter.partialMetadata(object))
        }
    }

    func renderList(_ result: Registry.ListResult, shape: ResponseShape) -> Response {
        var meta: JSONValue = ["resourceVersion": .string(String(result.resourceVersion))]
        if let c = result.continueToken { meta["continue"] = .string(c) }
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
        (request.headers[.contentType] ?? "application/json").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
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

    /// CSR bodies: kubectl's typed client sends protobuf, which the generated schema lacks.
    func csrBody() async throws -> JSONValue {
        guard contentTypeHeader == "application/vnd.kubernetes.protobuf" else { return try await body() }
        return try CertificateSigningRequestProtobuf.decode(Array(buffer: try await rawBody()))
    }

    func patchBody() async throws -> (JSONValue, PatchType) {
        let contentType = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
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
        return o
    }

    func propagation(_ p: String) throws(APIError) -> DeleteOptions.Propagation {
        guard let v = DeleteOptions.Propagation(rawValue: p) else {
            throw APIError.badRequest("propagationPolicy: Unsupported value: \"\(p)\": supported values: \"Foreground\", \"Background\", \"Orphan\"")
        }
        return v
    }
}
