import Foundation
import KubeModel

/// A kubeconfig problem, worded for the person who has to fix the file.
public struct KubeconfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, naming the context, cluster, user or file concerned.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where a PEM blob comes from: inline (`*-data`, already base64-decoded) or a file path.
/// Files are read when the client is built, not when the kubeconfig is parsed, so parsing stays pure.
public enum PEMSource: Sendable, Equatable {
    /// PEM bytes given inline.
    case data([UInt8])
    /// Absolute path (relative kubeconfig paths are resolved against the kubeconfig's directory).
    case file(String)
}

/// How the client proves who it is, beyond a client certificate.
public enum Credential: Sendable, Equatable {
    /// Anonymous, or authenticated by the client certificate alone.
    case none
    /// A bearer token given inline.
    case token(String)
    /// A bearer token read from a file (service-account style).
    case tokenFile(String)
}

/// Everything needed to talk to one API server, as picked from a kubeconfig context.
public struct ClusterConnection: Sendable, Equatable {
    /// Base URL without a trailing slash, e.g. `https://127.0.0.1:6443`.
    public var server: String
    /// Trust roots for the server certificate; `nil` means the system roots.
    public var certificateAuthority: PEMSource?
    /// Accept any server certificate (`insecure-skip-tls-verify`); never with a CA.
    public var insecureSkipTLSVerify: Bool
    /// Client certificate (PEM chain) for mutual TLS; always paired with `clientKey`.
    public var clientCertificate: PEMSource?
    /// Private key (PEM) of `clientCertificate`.
    public var clientKey: PEMSource?
    /// Bearer token, sent in addition to any client certificate (as client-go does).
    public var credential: Credential
    /// The context's namespace, `default` when it names none.
    public var namespace: String
    /// Name of the context this was picked from (empty when built by hand).
    public var contextName: String
    /// Further API servers of the same cluster (same CA and credentials), tried in order
    /// when `server` cannot be reached: the kubeconfig cluster's `caravel.dev/servers`
    /// extension (`KubeconfigServers`).
    public var fallbackServers: [String] = []

    /// `server` first, then the fallbacks.
    public var servers: [String] { [server] + fallbackServers }

    /// A connection built by hand (tests, in-cluster setups); `Kubeconfig` builds the usual ones.
    public init(
        server: String, certificateAuthority: PEMSource? = nil, insecureSkipTLSVerify: Bool = false,
        clientCertificate: PEMSource? = nil, clientKey: PEMSource? = nil, credential: Credential = .none,
        namespace: String = "default", contextName: String = ""
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.credential = credential
        self.namespace = namespace
        self.contextName = contextName
    }

    /// Whether the server URL asks for TLS.
    public var usesTLS: Bool { server.lowercased().hasPrefix("https://") }
}

/// Kubeconfig loading. `parse` is pure (no I/O) so it can be tested without files; `load` reads
/// the file and resolves relative paths against its directory, as kubectl does.
public enum Kubeconfig {
    /// Reads `path` (or `$KUBECONFIG`'s first entry, or `~/.kube/config`) and picks `context`
    /// (or the file's `current-context`).
    public static func load(path: String? = nil, context: String? = nil) throws -> ClusterConnection {
        let file = path ?? defaultPath()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw KubeconfigError("cannot read kubeconfig \(file)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KubeconfigError("kubeconfig \(file) is not UTF-8 text")
        }
        let baseDirectory = (file as NSString).deletingLastPathComponent
        do {
            return try parse(yaml: text, context: context, baseDirectory: baseDirectory)
        } catch let e as KubeconfigError {
            throw KubeconfigError("\(file): \(e.message)")
        }
    }

    /// Parses kubeconfig YAML text; see `parse(_:context:baseDirectory:)`.
    public static func parse(yaml: String, context: String? = nil, baseDirectory: String? = nil) throws -> ClusterConnection {
        let doc: JSONValue
        do { doc = try YAMLDecoding.decode(yaml) } catch {
            throw KubeconfigError("invalid kubeconfig YAML: \(error)")
        }
        return try parse(doc, context: context, baseDirectory: baseDirectory)
    }

    /// Picks `context` (or `current-context`) from a decoded kubeconfig and resolves its cluster
    /// and user. Relative file paths are joined to `baseDirectory` when given.
    public static func parse(_ doc: JSONValue, context: String? = nil, baseDirectory: String? = nil) throws -> ClusterConnection {
        guard doc.objectValue != nil else { throw KubeconfigError("kubeconfig is not a mapping") }
        let contextName = context ?? doc["current-context"]?.stringValue ?? ""
        guard !contextName.isEmpty else {
            throw KubeconfigError("no current-context is set and no context was given")
        }
        let ctx = try entry(doc, list: "contexts", name: contextName, body: "context")
        guard let clusterName = ctx["cluster"]?.stringValue, !clusterName.isEmpty else {
            throw KubeconfigError("context \"\(contextName)\" names no cluster")
        }
        let cluster = try entry(doc, list: "clusters", name: clusterName, body: "cluster")
        // A context without a user is legal (anonymous access); a named but missing user is not.
        let userName = ctx["user"]?.stringValue ?? ""
        let user = userName.isEmpty ? JSONValue.object([:]) : try entry(doc, list: "users", name: userName, body: "user")

        guard let rawServer = cluster["server"]?.stringValue, !rawServer.isEmpty else {
            throw KubeconfigError("cluster \"\(clusterName)\" has no server URL")
        }
        let lower = rawServer.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw KubeconfigError("cluster \"\(clusterName)\" server \"\(rawServer)\" is not an http(s) URL")
        }
        var server = rawServer
        while server.hasSuffix("/") { server.removeLast() }

        let resolve = { (p: String) in absolute(p, baseDirectory: baseDirectory) }
        let what = { (kind: String, name: String) in "\(kind) \"\(name)\"" }
        let ca = try pem(cluster, dataKey: "certificate-authority-data", fileKey: "certificate-authority",
                         owner: what("cluster", clusterName), resolve: resolve)
        let cert = try pem(user, dataKey: "client-certificate-data", fileKey: "client-certificate",
                           owner: what("user", userName), resolve: resolve)
        let key = try pem(user, dataKey: "client-key-data", fileKey: "client-key",
                          owner: what("user", userName), resolve: resolve)
        if (cert == nil) != (key == nil) {
            throw KubeconfigError("user \"\(userName)\" has a client \(cert == nil ? "key" : "certificate") but no client \(cert == nil ? "certificate" : "key")")
        }

        var credential = Credential.none
        if let token = user["token"]?.stringValue, !token.isEmpty {
            credential = .token(token)
        } else if let tokenFile = user["tokenFile"]?.stringValue, !tokenFile.isEmpty {
            credential = .tokenFile(resolve(tokenFile))
        } else if cert == nil {
            // Refuse loudly rather than silently going anonymous with a config that meant to authenticate.
            for unsupported in ["exec", "auth-provider", "username"] where user[unsupported] != nil {
                throw KubeconfigError("user \"\(userName)\" uses \(unsupported) credentials, which KubeClient does not support (use a token or a client certificate)")
            }
        }

        let insecure = cluster["insecure-skip-tls-verify"]?.boolValue ?? false
        if insecure && ca != nil {
            throw KubeconfigError("cluster \"\(clusterName)\" sets both a certificate authority and insecure-skip-tls-verify")
        }
        let namespace = ctx["namespace"]?.stringValue ?? ""
        var connection = ClusterConnection(
            server: server, certificateAuthority: ca, insecureSkipTLSVerify: insecure,
            clientCertificate: cert, clientKey: key, credential: credential,
            namespace: namespace.isEmpty ? "default" : namespace, contextName: contextName)
        connection.fallbackServers = try KubeconfigServers.fallbacks(cluster, clusterName: clusterName, server: server)
        return connection
    }

    // MARK: - helpers

    static func defaultPath() -> String {
        let env = ProcessInfo.processInfo.environment
        if let list = env["KUBECONFIG"], let first = list.split(separator: ":").first, !first.isEmpty {
            return String(first)
        }
        let home = env["HOME"] ?? NSHomeDirectory()
        return home + "/.kube/config"
    }

    /// The `body` member of the entry called `name` in the list `list` (kubeconfig's named-list shape).
    private static func entry(_ doc: JSONValue, list: String, name: String, body: String) throws -> JSONValue {
        let items = doc[list]?.arrayValue ?? []
        guard let item = items.first(where: { $0["name"]?.stringValue == name }) else {
            let known = items.compactMap { $0["name"]?.stringValue }
            let hint = known.isEmpty ? "the file has none" : "known: \(known.joined(separator: ", "))"
            throw KubeconfigError("\(body) \"\(name)\" not found in \(list) (\(hint))")
        }
        guard let value = item[body], value.objectValue != nil else {
            throw KubeconfigError("\(body) \"\(name)\" has no \(body) mapping")
        }
        return value
    }

    /// Inline base64 data wins over a file, as in client-go.
    private static func pem(_ obj: JSONValue, dataKey: String, fileKey: String, owner: String,
                            resolve: (String) -> String) throws -> PEMSource? {
        if let b64 = obj[dataKey]?.stringValue, !b64.isEmpty {
            guard let data = Data(base64Encoded: b64, options: .ignoreUnknownCharacters), !data.isEmpty else {
                throw KubeconfigError("\(owner): \(dataKey) is not valid base64")
            }
            return .data(Array(data))
        }
        if let file = obj[fileKey]?.stringValue, !file.isEmpty { return .file(resolve(file)) }
        return nil
    }

    static func absolute(_ path: String, baseDirectory: String?) -> String {
        guard !path.hasPrefix("/"), let base = baseDirectory, !base.isEmpty else { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }
}
