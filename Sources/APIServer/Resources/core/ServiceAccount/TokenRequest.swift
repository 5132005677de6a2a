import Foundation
import KubeModel

/// `serviceaccounts/{name}/token`: TokenRequest, answered and never stored.
extension Registry {
    /// The handler `ServiceAccountStrategy` serves.
    static let tokenRequestHandler = SubresourceHandler(.token, methods: [.post: "POST"]) { endpoint, name in
        ResponseBuilder.json(try await endpoint.registry.createToken(namespace: endpoint.info.namespace ?? "", serviceAccount: name,
                                                                     body: try await endpoint.body(), options: try endpoint.writeOptions()),
                             code: 201)
    }

    /// Shortest token lifetime a client may ask for, as Kubernetes (10 minutes).
    public static let tokenMinExpirationSeconds: Int64 = 600
    /// Longer requests are cut to this (the server's `--service-account-max-token-expiration`).
    public static let tokenMaxExpirationSeconds: Int64 = 48 * 3600
    public static let tokenDefaultExpirationSeconds: Int64 = 3600

    static let tokenRequestDefinition = ResourceDefinition(
        group: "authentication.k8s.io", versions: ["v1"], kind: "TokenRequest", plural: "tokenrequests", namespaced: true,
        schemaNames: ["v1": "io.k8s.api.authentication.v1.TokenRequest"])

    /// POST `serviceaccounts/{name}/token`: a signed token for the account, optionally bound to
    /// a Pod or Secret that must exist (with the given uid). Nothing is stored.
    public func createToken(namespace: String, serviceAccount name: String, body: JSONValue,
                            options: WriteOptions) async throws(APIError) -> JSONValue {
        guard let issuer = environment.serviceAccountTokens else {
            throw APIError.methodNotSupported(nil, "POST")
        }
        let def = Self.tokenRequestDefinition
        guard body.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON or YAML object") }
        if let k = body["kind"], k.stringValue != "TokenRequest" {
            throw APIError.badRequest("the kind in the request body (\(FieldError.show(k))) does not match the expected kind TokenRequest")
        }
        if let v = body["apiVersion"], v.stringValue != "authentication.k8s.io/v1" {
            throw APIError.badRequest("the API version in the data (\(v.stringValue ?? "?")) does not match the expected API version (authentication.k8s.io/v1)")
        }
        let spec = body["spec"] ?? .object([:])
        var errors: [FieldError] = []
        let audiences = (spec["audiences"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.isEmpty }
        var seconds = spec["expirationSeconds"]?.intValue ?? Self.tokenDefaultExpirationSeconds
        if seconds < Self.tokenMinExpirationSeconds {
            errors.append(.invalid("spec.expirationSeconds", String(seconds), "may not specify a duration less than 10 minutes"))
        }
        seconds = min(seconds, Self.tokenMaxExpirationSeconds)
        let boundRef = spec["boundObjectRef"].flatMap { $0.isNull ? nil : $0 }
        if let ref = boundRef {
            let kind = ref["kind"]?.stringValue ?? ""
            if !["Pod", "Secret"].contains(kind) {
                errors.append(.notSupported("spec.boundObjectRef.kind", "\"\(kind)\"", ["Pod", "Secret"]))
            }
            if let v = ref["apiVersion"]?.stringValue, !v.isEmpty, v != "v1" {
                errors.append(.notSupported("spec.boundObjectRef.apiVersion", "\"\(v)\"", ["v1"]))
            }
            if (ref["name"]?.stringValue ?? "").isEmpty { errors.append(.required("spec.boundObjectRef.name")) }
        }
        try runValidation(errors, def: def, name: name)
        let node = options.user.flatMap(NodeAuthorizer.nodeName(of:))
        if let node, boundRef?["kind"]?.stringValue != "Pod" {
            // NodeRestriction: a kubelet gets only tokens bound to its own pods.
            throw APIError.forbidden(def, name, "node '\(node)' may only request tokens bound to its pods")
        }

        // `default` is made on first need when no controller made it (see ServiceAccountAdmission).
        var found: JSONValue?
        if let s = catalog.strategy(group: "", plural: "serviceaccounts") {
            found = try await ServiceAccountAdmission.serviceAccount(namespace, name, strategy: s, registry: self, dryRun: options.dryRun)
        }
        guard let sa = found, sa.uid != nil || options.dryRun else {
            throw APIError(code: 404, reason: "NotFound", message: "serviceaccounts \"\(name)\" not found",
                           details: ["name": .string(name), "kind": "serviceaccounts"])
        }
        let now = clock()
        let issuedAt = Int64(now.timeIntervalSince1970)
        var claims = ServiceAccountClaims(
            issuer: issuer.issuer, audiences: audiences.isEmpty ? [issuer.issuer] : audiences, namespace: namespace,
            serviceAccount: .init(name: name, uid: sa.uid ?? ""), issuedAt: issuedAt, expiresAt: issuedAt + seconds)
        var resolvedRef: JSONValue = .null
        if let ref = boundRef {
            let kind = ref["kind"]?.stringValue ?? ""
            let objName = ref["name"]?.stringValue ?? ""
            let plural = kind == "Pod" ? "pods" : "secrets"
            guard let object = try await stored(group: "", plural: plural, namespace: namespace, name: objName) else {
                throw APIError(code: 404, reason: "NotFound", message: "\(plural) \"\(objName)\" not found",
                               details: ["name": .string(objName), "kind": .string(plural)])
            }
            let uid = object.uid ?? ""
            if let want = ref["uid"]?.stringValue, !want.isEmpty, want != uid {
                throw APIError.conflict(def, name, "the UID in the bound object reference (\(want)) does not match the UID in record (\(uid)). The object might have been deleted and then recreated")
            }
            if object[path: ["metadata", "deletionTimestamp"]] != nil {
                throw APIError.badRequest("cannot bind a token to \(plural) \"\(objName)\": it is being deleted")
            }
            if let node, kind == "Pod" {
                let podSA = object[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
                guard object[path: ["spec", "nodeName"]]?.stringValue == node, (podSA.isEmpty ? "default" : podSA) == name else {
                    throw APIError.forbidden(def, name, "node '\(node)' may only request tokens for pods bound to it that run as \(namespace)/\(name)")
                }
            }
            let bound = ServiceAccountClaims.Ref(name: objName, uid: uid)
            if kind == "Pod" {
                claims.pod = bound
                if let nodeName = object[path: ["spec", "nodeName"]]?.stringValue, !nodeName.isEmpty {
                    let node = try await stored(group: "", plural: "nodes", namespace: nil, name: nodeName)
                    claims.node = .init(name: nodeName, uid: node?.uid ?? "")
                }
            } else {
                claims.secret = bound
            }
            resolvedRef = ["kind": .string(kind), "apiVersion": "v1", "name": .string(objName), "uid": .string(uid)]
        }
        let token: String
        do { token = try issuer.issue(claims) } catch { throw APIError.internalError("cannot sign the token: \(error)") }
        var outSpec: JSONValue = ["audiences": .array(claims.audiences.map { .string($0) }), "expirationSeconds": .int(seconds)]
        if !resolvedRef.isNull { outSpec["boundObjectRef"] = resolvedRef }
        return [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(Timestamp.format(now))],
            "spec": outSpec,
            // A dry run answers with everything but the secret itself.
            "status": ["token": .string(options.dryRun ? "" : token),
                       "expirationTimestamp": .string(Timestamp.format(Date(timeIntervalSince1970: TimeInterval(claims.expiresAt))))],
        ]
    }

    /// An object straight from the store, nil when absent.
    private func stored(group: String, plural: String, namespace: String?, name: String) async throws(APIError) -> JSONValue? {
        let prefix = "/registry/\(group.isEmpty ? "core" : group)/\(plural)/"
        let key = prefix + (namespace.map { $0 + "/" } ?? "") + name
        do {
            return try await store.get(key: key)?.object
        } catch {
            throw APIError.internalError("cannot read \(plural) \"\(name)\": \(error)")
        }
    }
}
