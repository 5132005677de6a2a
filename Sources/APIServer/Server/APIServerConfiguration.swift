import Foundation

/// Settings of one API server process.
public struct APIServerConfiguration: Sendable {
    public var dataDirectory: String
    public var port: Int
    public var bindAddress: String
    /// Events kept for resuming watches (`--watch-cache-size`).
    public var watchCacheSize: Int
    /// How often watchers that allow bookmarks get one.
    public var bookmarkInterval: Duration
    /// Serve HTTPS with the generated PKI and require credentials (`--tls`); plain HTTP
    /// without authentication is for debugging only.
    public var tls: Bool

    public init(dataDirectory: String, port: Int = 6443, bindAddress: String = "127.0.0.1", watchCacheSize: Int = 10_000,
                bookmarkInterval: Duration = .seconds(15), tls: Bool = true) {
        self.tls = tls
        self.dataDirectory = dataDirectory
        self.port = port
        self.bindAddress = bindAddress
        self.watchCacheSize = watchCacheSize
        self.bookmarkInterval = bookmarkInterval
    }

    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("state.db") }
    public var kubeconfigPath: String { (dataDirectory as NSString).appendingPathComponent("kubeconfig.yaml") }
    /// Kubeconfig of the controller manager, with its own client certificate.
    public var controllerManagerKubeconfigPath: String {
        (dataDirectory as NSString).appendingPathComponent("controller-manager.kubeconfig")
    }
    /// Certificates and keys (`pki/`).
    public var pkiDirectory: String { (dataDirectory as NSString).appendingPathComponent("pki") }
    /// The static bearer token file (`--token-auth-file` format).
    public var tokenFilePath: String { (dataDirectory as NSString).appendingPathComponent("tokens.csv") }
}
