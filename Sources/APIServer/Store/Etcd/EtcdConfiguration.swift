import Foundation

/// Where an `EtcdStore` keeps the cluster's state: one or more client URLs of the same etcd
/// cluster (tried in order, the next taking over when one is unreachable), the client TLS
/// files, and the key prefix, as kube-apiserver's `--etcd-servers`, `--etcd-cafile`,
/// `--etcd-certfile`, `--etcd-keyfile` and `--etcd-prefix`.
public struct EtcdConfiguration: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var tls: Bool
        public var description: String { "\(tls ? "https" : "http")://\(host):\(port)" }
    }

    public var endpoints: [Endpoint]
    /// PEM file of the CA that signed etcd's serving certificate (https endpoints); nil: the
    /// system's roots.
    public var caFile: String?
    /// PEM client certificate and key, when etcd asks clients for one.
    public var certFile: String?
    public var keyFile: String?
    /// Every key lives under this prefix; several clusters can share one etcd.
    public var prefix: String

    public static let defaultPrefix = "/registry"

    public init(endpoints: [Endpoint], caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                prefix: String = EtcdConfiguration.defaultPrefix) {
        self.endpoints = endpoints
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.prefix = prefix
    }

    /// Parses `--datastore-endpoint`: comma-separated `http(s)://host:port` URLs.
    public static func parseEndpoints(_ list: String) throws -> [Endpoint] {
        let parts = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw EtcdConfigurationError("no datastore endpoint given") }
        return try parts.map { part in
            guard let url = URLComponents(string: part), let scheme = url.scheme, scheme == "http" || scheme == "https",
                  let host = url.host, !host.isEmpty
            else {
                throw EtcdConfigurationError("datastore endpoint \"\(part)\" is not an http(s)://host:port URL")
            }
            let port = url.port ?? 2379
            guard (1...65535).contains(port) else { throw EtcdConfigurationError("datastore endpoint \"\(part)\" has an invalid port") }
            // IPv6 literals come bracketed from URLComponents.
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            return Endpoint(host: bare, port: port, tls: scheme == "https")
        }
    }

    /// Checks the TLS flags go together: a key without a certificate (or the reverse) is a
    /// mistake worth stopping for, not a silent plaintext fallback.
    public func validate() throws {
        if (certFile == nil) != (keyFile == nil) {
            throw EtcdConfigurationError("--datastore-certfile and --datastore-keyfile go together")
        }
        if (caFile != nil || certFile != nil), endpoints.contains(where: { !$0.tls }) {
            throw EtcdConfigurationError("TLS files are given but an endpoint is http://; use https://")
        }
        guard prefix.hasPrefix("/"), !prefix.hasSuffix("/") || prefix == "/" else {
            throw EtcdConfigurationError("--datastore-prefix must start with / and not end with one")
        }
    }
}

public struct EtcdConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
