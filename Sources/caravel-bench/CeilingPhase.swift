import Foundation
import GRDB
import Hummingbird
import HummingbirdTLS
import KubeClient
import KubeModel
import NIOCore
import NIOSSL

/// What the API figures are measured against: the same creates as raw SQLite transactions
/// with the store's schema and durability (WAL, `synchronous = FULL`, one transaction per
/// write: the store's ceiling), and the same GETs against a bare Hummingbird server on the same
/// TLS stack answering the same bytes (the network ceiling). Both printed with the API's
/// figure over the ceiling's.
struct CeilingPhase: Sendable {
    let client: KubeRESTClient
    let namespace: String
    /// Where the SQLite file goes (the same filesystem as the server's data dir).
    let scratchDirectory: String
    /// The server's PKI directory (DATA/pki) for the bare server's TLS; nil for plain HTTP.
    let pkiDirectory: String?

    /// Commits `count` creates from `concurrency` tasks; returns creates/s.
    func storeCeiling(count: Int, concurrency: Int) async throws -> Double {
        // The bytes the store keeps for one of the bench's ConfigMaps, name aside.
        let sample = try await client.get(ResourcePath.core("configmaps", namespace: namespace).named(Phases.objectName(0)).path)
        let path = scratchDirectory + "/ceiling-\(UUID().uuidString.prefix(8)).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        var config = GRDB.Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: path, configuration: config)
        try await pool.write { db in
            try db.execute(sql: """
                CREATE TABLE log (revision INTEGER PRIMARY KEY, key TEXT NOT NULL, kind INTEGER NOT NULL,
                                  prev_revision INTEGER NOT NULL DEFAULT 0, value BLOB NOT NULL);
                CREATE INDEX log_key_revision ON log(key, revision);
                CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """)
        }
        let revision = Locked<Int64>(0)
        let start = monotonicNanos()
        try await Phases.fanOut(count: count, concurrency: concurrency) { i in
            var object = sample
            let name = "ceiling-\(i)"
            object[path: ["metadata", "name"]] = .string(name)
            let key = "/registry/core/configmaps/\(namespace)/\(name)"
            let value = Data(JSONWriter.bytes(object))
            try await pool.writeWithoutTransaction { db in
                let next = revision.withLock { $0 += 1; return $0 }
                try db.beginTransaction(.immediate)
                // What the store's create does: look for the key, append the row, move the revision.
                _ = try Row.fetchOne(db, sql: "SELECT revision, kind FROM log WHERE key = ? ORDER BY revision DESC LIMIT 1", arguments: [key])
                try db.execute(sql: "INSERT INTO log(revision, key, kind, prev_revision, value) VALUES (?, ?, 0, 0, ?)",
                               arguments: [next, key, value])
                try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('revision', ?)", arguments: [next])
                try db.commit()
            }
        }
        let rate = Double(count) / (millis(since: start) / 1000)
        try pool.close()
        return rate
    }

    /// Serves the bytes of a GET of `cm-0` from a bare server on a free port and GETs them
    /// `count` times from `concurrency` tasks; returns GETs/s and the per-request latencies.
    func networkCeiling(count: Int, concurrency: Int) async throws -> (rate: Double, latencies: [Double]) {
        let objectPath = ResourcePath.core("configmaps", namespace: namespace).named(Phases.objectName(0)).path
        let body = try await client.raw("GET", objectPath)
        let port = try freePort()
        let router = Router()
        router.get("/api/v1/namespaces/:ns/configmaps/:name") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let address = BindAddress.hostname("127.0.0.1", port: port)
        let server: Task<Void, Error>
        if let pkiDirectory {
            let tls = try Self.serverTLS(pkiDirectory: pkiDirectory)
            let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls), configuration: .init(address: address))
            server = Task { try await app.runService() }
        } else {
            let app = Application(router: router, configuration: .init(address: address))
            server = Task { try await app.runService() }
        }
        defer { server.cancel() }
        let scheme = pkiDirectory == nil ? "http" : "https"
        var connection = client.connection
        connection.server = "\(scheme)://127.0.0.1:\(port)"
        let bare = try KubeRESTClient(connection: connection, options: .init(maxConnectionsPerHost: concurrency + 2, userAgent: "caravel-bench/ceiling"))
        defer { Task { try? await bare.shutdown() } }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await bare.raw("GET", objectPath)) != nil
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard ready else { throw BenchError("the bare server on port \(port) did not answer") }
        let start = monotonicNanos()
        // Decoded as the API GETs are, so the client does the same work on both sides.
        let latencies = try await Phases.fanOut(count: count, concurrency: concurrency) { _ in
            let obj = try await bare.get(objectPath)
            guard obj.name == Phases.objectName(0) else { throw BenchError("the bare server answered another object") }
        }
        return (Double(count) / (millis(since: start) / 1000), latencies)
    }

    /// The API server's own TLS settings (`ServerTLS`): its certificate and key, client
    /// certificates asked for and verified against the cluster CA, TLS 1.2 at least, HTTP/1.1.
    static func serverTLS(pkiDirectory: String) throws -> TLSConfiguration {
        func pem(_ name: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: pkiDirectory + "/" + name) else {
                throw BenchError("cannot read \(pkiDirectory)/\(name)")
            }
            return Array(data)
        }
        let chain = try NIOSSLCertificate.fromPEMBytes(pem("server.crt"))
        let key = try NIOSSLPrivateKey(bytes: pem("server.key"), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem("ca.crt")))
        tls.sendCANameList = true
        tls.certificateVerification = .optionalVerification
        tls.applicationProtocols = ["http/1.1"]
        return tls
    }
}
