import Foundation
import KubeModel
import KubeTesting
import Testing

@testable import APIServer

/// The stores the conformance suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, etcd
    var testDescription: String { rawValue }
}

/// A store under test, with the store-specific parts the suite needs.
struct StoreUnderTest: Sendable {
    let store: any Store
    /// Removes history up to and including a revision.
    let compact: @Sendable (Int64) async throws -> Void
    let stop: @Sendable () async -> Void

    /// Runs `body` against a fresh store of `kind`, stopping it (and its etcd) afterwards.
    static func with(_ kind: StoreKind, historySize: Int = 1000, _ body: (StoreUnderTest) async throws -> Void) async throws {
        let sut = try await make(kind, historySize: historySize)
        do {
            try await body(sut)
        } catch {
            await sut.stop()
            throw error
        }
        await sut.stop()
    }

    static func make(_ kind: StoreKind, historySize: Int) async throws -> StoreUnderTest {
        switch kind {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-conformance-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let store = try SQLiteStore(path: dir.appendingPathComponent("state.db").path, historySize: historySize)
            return StoreUnderTest(store: store, compact: { try await store.compact(through: $0) },
                                  stop: { try? FileManager.default.removeItem(at: dir) })
        case .etcd:
            let etcd = try EtcdProcess.start()
            do {
                let store = try await etcd.connect(historySize: historySize)
                return StoreUnderTest(store: store, compact: { try await store.compact(through: $0) }, stop: {
                    store.close()
                    etcd.stop()
                })
            } catch {
                etcd.stop()
                throw error
            }
        }
    }
}

/// A single-member etcd on free loopback ports with a temporary data directory, stopped by
/// `stop()`. Starting fails, loudly, when the `etcd` binary (Debian's etcd-server) is missing.
/// Unchecked: `Process` is not marked Sendable; it is only started, asked and stopped.
final class EtcdProcess: @unchecked Sendable {
    let clientURL: String
    let process: Process
    let dataDir: URL

    static func binary() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(dir)/etcd"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw EtcdMissing()
    }

    struct EtcdMissing: Error, CustomStringConvertible {
        var description: String { "the etcd binary is not installed (apt-get install etcd-server): the etcd store cannot be tested" }
    }

    private init(clientURL: String, process: Process, dataDir: URL) {
        self.clientURL = clientURL
        self.process = process
        self.dataDir = dataDir
    }

    /// - Parameter tls: serve clients over TLS with these files and require client
    ///   certificates signed by `ca`.
    static func start(tls: (ca: String, cert: String, key: String)? = nil) throws -> EtcdProcess {
        let binary = try binary()
        let clientPort = try freeLoopbackPort()
        let peerPort = try freeLoopbackPort()
        // In memory where there is a tmpfs: the unit tests start several members at once, and
        // their WAL preallocations and fsyncs on disk would starve everything else running.
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let dataDir = base.appendingPathComponent("caravel-etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let client = "\(tls == nil ? "http" : "https")://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--name", "conformance", "--data-dir", dataDir.path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "conformance=\(peer)", "--initial-cluster-state", "new",
            "--logger", "zap", "--log-level", "error",
        ] + (tls.map { ["--cert-file", $0.cert, "--key-file", $0.key, "--trusted-ca-file", $0.ca, "--client-cert-auth"] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: {
            let log = dataDir.appendingPathComponent("etcd.log")
            #expect(FileManager.default.createFile(atPath: log.path, contents: nil))
            return log
        }())
        try process.run()
        return EtcdProcess(clientURL: client, process: process, dataDir: dataDir)
    }

    /// Connects a store, waiting for etcd to serve (it takes a moment to elect itself).
    func connect(historySize: Int, prefix: String = EtcdConfiguration.defaultPrefix) async throws -> EtcdStore {
        try await connect(EtcdConfiguration(endpoints: try EtcdConfiguration.parseEndpoints(clientURL), prefix: prefix), historySize: historySize)
    }

    func connect(_ config: EtcdConfiguration, historySize: Int = 100) async throws -> EtcdStore {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try await EtcdStore.connect(config, historySize: historySize, compactionInterval: nil, startTimeout: .seconds(5))
            } catch {
                guard process.isRunning, ContinuousClock.now < deadline else {
                    let log = (try? String(contentsOf: dataDir.appendingPathComponent("etcd.log"), encoding: .utf8)) ?? ""
                    throw StoreError.io("etcd at \(clientURL) did not serve: \(error)\n\(log.suffix(2000))")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDir)
    }
}
