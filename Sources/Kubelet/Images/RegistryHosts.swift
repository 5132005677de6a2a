import Foundation
import KubeModel

/// How the kubelet reaches each registry: HTTPS by default; plain HTTP only for registries named
/// insecure (`--insecure-registry HOST:PORT`, or an `http://` endpoint in `registries.yaml`);
/// HTTPS without certificate checks for `tls.insecure_skip_verify`; credentials from
/// `configs.HOST.auth`. `registries.yaml` (under the kubelet's data dir) has k3s' format:
///
/// ```yaml
/// mirrors:
///   "127.0.0.1:5000":
///     endpoint: ["http://127.0.0.1:5000"]
/// configs:
///   "registry.example:443":
///     auth: {username: u, password: p}
///     tls: {insecure_skip_verify: true}
/// ```
public struct RegistryHosts: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        /// `https://host[:port]` or `http://host[:port]`.
        public var baseURL: String
        public var skipTLSVerify: Bool
    }

    /// Registry host -> endpoints in order (mirrors first).
    var mirrors: [String: [String]] = [:]
    var insecureHosts: Set<String> = []
    var skipVerify: Set<String> = []
    var auths: [String: RegistryCredential] = [:]

    public init(insecure: [String] = []) {
        insecureHosts = Set(insecure)
    }

    /// Reads `registries.yaml`; a missing file is no configuration.
    public static func load(path: String, insecure: [String]) throws -> RegistryHosts {
        var hosts = RegistryHosts(insecure: insecure)
        guard FileManager.default.fileExists(atPath: path) else { return hosts }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try hosts.merge(yaml: text)
        return hosts
    }

    public mutating func merge(yaml text: String) throws {
        let document = try YAMLDecoding.decode(text)
        for (host, mirror) in document["mirrors"]?.objectValue ?? [:] {
            let endpoints = (mirror["endpoint"]?.arrayValue ?? []).compactMap(\.stringValue)
            mirrors[host] = endpoints
        }
        for (host, config) in document["configs"]?.objectValue ?? [:] {
            if config[path: ["tls", "insecure_skip_verify"]]?.boolValue == true { skipVerify.insert(host) }
            if let auth = config["auth"] {
                if let user = auth["username"]?.stringValue, let password = auth["password"]?.stringValue {
                    auths[host] = RegistryCredential(username: user, password: password)
                } else if let encoded = auth["auth"]?.stringValue, let credential = RegistryCredential(base64: encoded) {
                    auths[host] = credential
                }
            }
        }
    }

    /// Where to ask for `registry`'s content, in order.
    public func endpoints(for registry: String) -> [Endpoint] {
        var result: [Endpoint] = []
        for raw in mirrors[registry] ?? [] {
            var url = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
            if !url.hasPrefix("http://") && !url.hasPrefix("https://") { url = "https://" + url }
            let host = url.replacingOccurrences(of: "https://", with: "").replacingOccurrences(of: "http://", with: "")
            result.append(Endpoint(baseURL: url, skipTLSVerify: skipVerify.contains(host) || skipVerify.contains(registry)))
        }
        let host = registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry
        let scheme = insecureHosts.contains(registry) ? "http" : "https"
        result.append(Endpoint(baseURL: "\(scheme)://\(host)", skipTLSVerify: skipVerify.contains(registry)))
        return result
    }

    /// Credentials configured for the registry on this node, if any.
    public func credential(for registry: String) -> RegistryCredential? { auths[registry] }
}

/// A user name and password for a registry (basic auth, or the token service's login).
public struct RegistryCredential: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// From `base64(user:password)`, as `auth` in a docker config.
    public init?(base64 encoded: String) {
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return nil }
        self.init(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    public var basicHeader: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }

    /// The credentials of a `kubernetes.io/dockerconfigjson` secret's `.dockerconfigjson`
    /// (`{"auths": {"host": {"username", "password"} | {"auth"}}}`), by registry host.
    public static func fromDockerConfig(_ data: Data) -> [String: RegistryCredential] {
        guard let document = try? JSONParser.parse(data) else { return [:] }
        var result: [String: RegistryCredential] = [:]
        for (key, entry) in document["auths"]?.objectValue ?? [:] {
            var host = key
            for prefix in ["https://", "http://"] where host.hasPrefix(prefix) { host = String(host.dropFirst(prefix.count)) }
            if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
            if host == "index.docker.io" || host == "registry-1.docker.io" { host = ImageReference.dockerHub }
            if let user = entry["username"]?.stringValue, let password = entry["password"]?.stringValue {
                result[host] = RegistryCredential(username: user, password: password)
            } else if let auth = entry["auth"]?.stringValue, let credential = RegistryCredential(base64: auth) {
                result[host] = credential
            }
        }
        return result
    }
}
