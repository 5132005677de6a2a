import Crypto
import Foundation
import KubeModel

/// Kubernetes bootstrap tokens (`ID.SECRET`, `[a-z0-9]{6}.[a-z0-9]{16}`), kept as Secrets
/// `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`, as kubeadm
/// makes them. A new kubelet joins with one: it may create a CSR and little else.
public struct BootstrapToken: Sendable, Equatable, CustomStringConvertible {
    public var id: String
    public var secret: String

    public static let secretType = "bootstrap.kubernetes.io/token"
    public static let namespace = "kube-system"
    public static let secretPrefix = "bootstrap-token-"
    /// Every bootstrap token user is in this group (system:node-bootstrapper is bound to it).
    public static let group = "system:bootstrappers"
    /// The extra group of the token `caravel server` makes, as kubeadm's default-node-token.
    public static let defaultNodeGroup = "system:bootstrappers:caravel:default-node-token"
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses `ID.SECRET`; nil unless both parts have the exact length and alphabet.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 6, parts[1].count == 16,
              (parts[0] + parts[1]).allSatisfy({ Self.alphabet.contains($0) }) else { return nil }
        id = String(parts[0])
        secret = String(parts[1])
    }

    /// A fresh random token.
    public static func generate() -> BootstrapToken {
        var rng = SystemRandomNumberGenerator()
        func random(_ n: Int) -> String { String((0..<n).map { _ in alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] }) }
        return BootstrapToken(id: random(6), secret: random(16))
    }

    public var description: String { "\(id).\(secret)" }
    public var secretName: String { Self.secretPrefix + id }

    /// The Secret holding this token (values base64 as in `data`).
    public func secretObject(extraGroups: [String] = [defaultNodeGroup], expiration: Date? = nil,
                             description: String = "the join token printed by caravel server") -> JSONValue {
        var data: [String: String] = [
            "token-id": id, "token-secret": secret, "usage-bootstrap-authentication": "true",
            "usage-bootstrap-signing": "true", "auth-extra-groups": extraGroups.joined(separator: ","),
            "description": description,
        ]
        if let expiration { data["expiration"] = Self.rfc3339(expiration) }
        return [
            "apiVersion": "v1", "kind": "Secret", "type": .string(Self.secretType),
            "metadata": ["name": .string(secretName), "namespace": .string(Self.namespace)],
            "data": .object(data.mapValues { .string(Data($0.utf8).base64EncodedString()) }),
        ]
    }

    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    /// The user a token Secret stands for when `secret` is presented; nil when the Secret is
    /// not a usable bootstrap token (wrong type, id or secret, expired, not for authentication).
    public static func user(secret object: JSONValue, presented token: BootstrapToken, now: Date = Date()) -> UserInfo? {
        guard object["type"]?.stringValue == secretType, object.name == token.secretName else { return nil }
        var data: [String: String] = [:]
        for (k, v) in object["data"]?.objectValue ?? [:] {
            if let s = v.stringValue, let d = Data(base64Encoded: s) { data[k] = String(decoding: d, as: UTF8.self) }
        }
        guard data["token-id"] == token.id, let stored = data["token-secret"],
              constantTimeEqual(stored, token.secret),
              data["usage-bootstrap-authentication"] == "true" else { return nil }
        if let exp = data["expiration"] {
            // An unreadable expiration fails closed, as Kubernetes does.
            guard let date = ISO8601DateFormatter().date(from: exp), date > now else { return nil }
        }
        var groups = [group]
        for g in (data["auth-extra-groups"] ?? "").split(separator: ",") {
            let name = g.trimmingCharacters(in: .whitespaces)
            // Only bootstrapper groups may be added, so a token cannot claim system:masters.
            if name.hasPrefix(group + ":"), !groups.contains(name) { groups.append(name) }
        }
        return UserInfo(name: "system:bootstrap:" + token.id, groups: groups)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Accepts bootstrap tokens as bearer tokens, reading their Secret at each request: a deleted
/// or expired token stops working at once.
public struct BootstrapTokenAuthenticator: TokenAuthenticator {
    let store: any Store

    public init(store: any Store) { self.store = store }

    public func authenticate(token: String) async -> UserInfo? {
        guard let t = BootstrapToken(token) else { return nil }
        let key = "/registry/core/secrets/\(BootstrapToken.namespace)/\(t.secretName)"
        guard let stored = try? await store.get(key: key) else { return nil }
        return BootstrapToken.user(secret: stored.object, presented: t)
    }
}

/// The join token of `caravel server`: reused across restarts while its Secret is valid.
enum BootstrapTokens {
    /// The existing default-node token, or a new one stored as its Secret.
    static func ensure(_ registry: Registry, now: Date = Date()) async throws -> BootstrapToken {
        guard let secrets = registry.catalog.strategy(group: "", plural: "secrets") else { throw PKIError("secrets are not served") }
        let list = try await registry.list(secrets, version: "v1", namespace: BootstrapToken.namespace, options: ListOptions())
        for item in list.items {
            guard let name = item.name, name.hasPrefix(BootstrapToken.secretPrefix),
                  let id = item[path: ["data", "token-id"]]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
                  let secret = item[path: ["data", "token-secret"]]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
                  let token = BootstrapToken("\(String(decoding: id, as: UTF8.self)).\(String(decoding: secret, as: UTF8.self))"),
                  let user = BootstrapToken.user(secret: item, presented: token, now: now),
                  user.groups.contains(BootstrapToken.defaultNodeGroup) else { continue }
            return token
        }
        let token = BootstrapToken.generate()
        _ = try await registry.create(secrets, version: "v1", namespace: BootstrapToken.namespace, body: token.secretObject(),
                                      options: WriteOptions())
        return token
    }
}
