import Crypto
import Foundation
import Testing
@testable import APIServer
import KubeModel

/// ES256 JWTs, the TokenRequest subresource and the token authenticator over a real store.
@Suite struct ServiceAccountTokenTests {
    let key = ServiceAccountSigningKey(privateKey: P256.Signing.PrivateKey())

    func claims(exp: Int64 = 2_000_000_000, iat: Int64 = 1_000_000_000) -> ServiceAccountClaims {
        ServiceAccountClaims(issuer: ServiceAccountTokenIssuer.defaultIssuer, audiences: [ServiceAccountTokenIssuer.defaultIssuer],
                             namespace: "ns", serviceAccount: .init(name: "sa", uid: "u1"), issuedAt: iat, expiresAt: exp)
    }

    @Test func signsAndVerifies() throws {
        let original = claims()
        let token = try JWS.sign(original.json, key: key)
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        let header = try JSONParser.parse(try #require(JWS.fromBase64URL(parts[0])))
        #expect(header["alg"] == "ES256" && header["typ"] == "JWT" && header["kid"]?.stringValue == key.keyID)
        #expect(try #require(JWS.fromBase64URL(parts[2])).count == 64)
        let back = try #require(JWS.verify(token, key: key.publicKey))
        #expect(ServiceAccountClaims(json: back) == original)
        #expect(back["sub"] == "system:serviceaccount:ns:sa")
    }

    @Test func refusesTamperingAndOtherKeys() throws {
        let token = try JWS.sign(claims().json, key: key)
        let parts = token.split(separator: ".").map(String.init)
        var forged = claims()
        forged.serviceAccount.name = "admin"
        let tampered = parts[0] + "." + JWS.base64URL(JSONWriter.bytes(forged.json)) + "." + parts[2]
        #expect(JWS.verify(tampered, key: key.publicKey) == nil)
        #expect(JWS.verify(token, key: P256.Signing.PrivateKey().publicKey) == nil)
        #expect(JWS.verify(parts[0] + "." + parts[1] + ".", key: key.publicKey) == nil)
        #expect(JWS.verify("garbage", key: key.publicKey) == nil)
        // alg=none must not pass.
        let none = JWS.base64URL(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "." + parts[2]
        #expect(JWS.verify(none, key: key.publicKey) == nil)
    }

    @Test func keyPersistsAcrossStarts() throws {
        let dir = NSTemporaryDirectory() + "sa-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try ServiceAccountSigningKey.loadOrCreate(directory: dir)
        let second = try ServiceAccountSigningKey.loadOrCreate(directory: dir)
        #expect(first.keyID == second.keyID)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/service-account.key")
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(FileManager.default.fileExists(atPath: dir + "/service-account.pub"))
    }

    // MARK: - over a registry

    struct Env {
        let registry: Registry
        let auth: ServiceAccountTokenAuthenticator
        let clock: Locked<Date>

        func create(_ plural: String, _ body: JSONValue, ns: String = "default") async throws -> JSONValue {
            let s = try #require(registry.catalog.strategy(group: "", plural: plural))
            return try await registry.create(s, version: "v1", namespace: ns, body: body, options: WriteOptions()).object
        }

        func delete(_ plural: String, _ name: String, grace: Int64? = 0) async throws {
            let s = try #require(registry.catalog.strategy(group: "", plural: plural))
            var o = DeleteOptions()
            o.gracePeriodSeconds = grace
            _ = try await registry.delete(s, version: "v1", namespace: "default", name: name, options: o)
        }

        func token(_ sa: String, _ spec: JSONValue = [:], user: UserInfo? = nil) async throws(APIError) -> JSONValue {
            var o = WriteOptions()
            o.user = user
            return try await registry.createToken(namespace: "default", serviceAccount: sa,
                                                  body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec], options: o)
        }
    }

    func env() async throws -> Env {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let clock = Locked(Date())
        let registry = Registry(store: store, catalog: ResourceCatalog(BuiltinResources.all),
                                environment: ServerEnvironment(serviceAccountTokens: ServiceAccountTokenIssuer(key: key)), clock: { clock.value })
        try await APIServerBuilder.bootstrap(registry)
        let auth = ServiceAccountTokenAuthenticator(store: store, keys: [key.publicKey], clock: { clock.value })
        let e = Env(registry: registry, auth: auth, clock: clock)
        _ = try await e.create("serviceaccounts", ["metadata": ["name": "robot"]])
        return e
    }

    static func pod(_ name: String, node: String? = nil, sa: String = "robot") -> JSONValue {
        var spec: JSONValue = ["serviceAccountName": .string(sa), "containers": [["name": "c", "image": "x"]]]
        if let node { spec["nodeName"] = .string(node) }
        return ["metadata": ["name": .string(name)], "spec": spec]
    }

    @Test func tokenRequestDefaultsAndAuthenticates() async throws {
        let e = try await env()
        let r = try await e.token("robot")
        #expect(r["kind"] == "TokenRequest" && r[path: ["spec", "expirationSeconds"]] == 3600)
        #expect(r[path: ["spec", "audiences"]] == [.string(ServiceAccountTokenIssuer.defaultIssuer)])
        #expect(r[path: ["status", "expirationTimestamp"]] == .string(Timestamp.format(e.clock.value.addingTimeInterval(3600))))
        let token = try #require(r[path: ["status", "token"]]?.stringValue)
        let user = try #require(await e.auth.authenticate(token: token))
        #expect(user.name == "system:serviceaccount:default:robot")
        #expect(user.groups == ["system:serviceaccounts", "system:serviceaccounts:default"])
        #expect(!user.uid.isEmpty)
        // Expired (past the leeway) tokens are refused.
        e.clock.value = e.clock.value.addingTimeInterval(3600 + 61)
        #expect(await e.auth.authenticate(token: token) == nil)
    }

    @Test func tokenRequestValidation() async throws {
        let e = try await env()
        await #expect(throws: APIError.self) { _ = try await e.token("missing") }
        do { _ = try await e.token("robot", ["expirationSeconds": 599]); Issue.record("accepted 599s") } catch { #expect(error.code == 422) }
        let long = try await e.token("robot", ["expirationSeconds": 360_000])
        #expect(long[path: ["spec", "expirationSeconds"]] == .int(Registry.tokenMaxExpirationSeconds))
        do { _ = try await e.token("robot", ["boundObjectRef": ["kind": "Node", "name": "n"]]); Issue.record("Node accepted") } catch { #expect(error.code == 422) }
        do { _ = try await e.token("robot", ["boundObjectRef": ["kind": "Pod", "name": "nope"]]); Issue.record("missing pod") } catch { #expect(error.code == 404) }
        let pod = try await e.create("pods", Self.pod("p1"))
        do { _ = try await e.token("robot", ["boundObjectRef": ["kind": "Pod", "name": "p1", "uid": "wrong"]]); Issue.record("bad uid") } catch { #expect(error.code == 409) }
        let ok = try await e.token("robot", ["audiences": ["api", "vault"], "boundObjectRef": ["kind": "Pod", "name": "p1", "uid": pod["metadata"]?["uid"] ?? ""]])
        #expect(ok[path: ["spec", "boundObjectRef", "uid"]] == pod[path: ["metadata", "uid"]])
        // Audiences that exclude the API server's: valid JWT, but not for us.
        #expect(await e.auth.authenticate(token: ok[path: ["status", "token"]]?.stringValue ?? "") == nil)
    }

    @Test func podBoundTokenDiesWithThePod() async throws {
        let e = try await env()
        _ = try await e.create("pods", Self.pod("p1"))
        let r = try await e.token("robot", ["boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": "p1"]])
        let token = try #require(r[path: ["status", "token"]]?.stringValue)
        let claims = try #require(JWS.verify(token, key: key.publicKey))
        #expect(claims[path: ["kubernetes.io", "pod", "name"]] == "p1")
        #expect(await e.auth.authenticate(token: token) != nil)
        try await e.delete("pods", "p1")
        #expect(await e.auth.authenticate(token: token) == nil)
        // A new pod with the same name has another uid: the old token stays dead.
        _ = try await e.create("pods", Self.pod("p1"))
        #expect(await e.auth.authenticate(token: token) == nil)
    }

    @Test func tokenDiesWithTheServiceAccount() async throws {
        let e = try await env()
        let token = try #require(try await e.token("robot")[path: ["status", "token"]]?.stringValue)
        #expect(await e.auth.authenticate(token: token) != nil)
        try await e.delete("serviceaccounts", "robot")
        #expect(await e.auth.authenticate(token: token) == nil)
        _ = try await e.create("serviceaccounts", ["metadata": ["name": "robot"]])
        #expect(await e.auth.authenticate(token: token) == nil)
    }

    @Test func cachedTokenStopsWorkingWithinTheTTLOfItsRevocation() async throws {
        let e = try await env()
        let cache = TokenAuthenticationCache([e.auth], ttl: .seconds(10), clock: { e.clock.value })
        _ = try await e.create("secrets", ["metadata": ["name": "s1"]])
        let secretBound = try #require(try await e.token("robot", ["boundObjectRef": ["kind": "Secret", "apiVersion": "v1", "name": "s1"]])[path: ["status", "token"]]?.stringValue)
        let plain = try #require(try await e.token("robot")[path: ["status", "token"]]?.stringValue)
        #expect(await cache.authenticate(token: secretBound) != nil)
        #expect(await cache.authenticate(token: plain) != nil)

        // The Secret goes: its token still passes from the cache for up to the TTL, then not.
        try await e.delete("secrets", "s1")
        e.clock.value = e.clock.value.addingTimeInterval(5)
        #expect(await cache.authenticate(token: secretBound) != nil)
        e.clock.value = e.clock.value.addingTimeInterval(6)
        #expect(await cache.authenticate(token: secretBound) == nil)
        #expect(await cache.authenticate(token: plain) != nil)  // re-checked, still valid

        // The ServiceAccount goes: the same within one TTL of the last check.
        try await e.delete("serviceaccounts", "robot")
        e.clock.value = e.clock.value.addingTimeInterval(10.5)
        #expect(await cache.authenticate(token: plain) == nil)
    }

    @Test func nodesGetTokensOnlyForTheirPods() async throws {
        let e = try await env()
        let nodeA = UserInfo(name: "system:node:node-a", groups: ["system:nodes", "system:authenticated"])
        _ = try await e.create("pods", Self.pod("on-a", node: "node-a"))
        _ = try await e.create("pods", Self.pod("on-b", node: "node-b"))
        let r = try await e.token("robot", ["boundObjectRef": ["kind": "Pod", "name": "on-a"]], user: nodeA)
        let claims = try #require(JWS.verify(r[path: ["status", "token"]]?.stringValue ?? "", key: key.publicKey))
        #expect(claims[path: ["kubernetes.io", "node", "name"]] == "node-a")
        for spec: JSONValue in [[:], ["boundObjectRef": ["kind": "Pod", "name": "on-b"]]] {
            do { _ = try await e.token("robot", spec, user: nodeA); Issue.record("node got \(spec)") } catch { #expect(error.code == 403) }
        }
        let authz = NodeAuthorizer(store: e.registry.store, next: RBACAuthorizer(store: e.registry.store))
        func attrs(_ sa: String) -> RequestAttributes {
            RequestAttributes(user: nodeA, verb: "create", apiGroup: "", resource: "serviceaccounts", subresource: "token",
                              namespace: "default", name: sa)
        }
        #expect(await authz.authorize(attrs("robot")).allowed)
        #expect(await !authz.authorize(attrs("default")).allowed)
    }
}
