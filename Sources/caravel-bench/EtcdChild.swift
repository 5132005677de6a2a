import Foundation

/// A single-member etcd the benchmark starts on free loopback ports with a temporary data dir,
/// so the started server can be measured on `--datastore-endpoint`. Used from the command's
/// task only.
struct EtcdChild {
    let child: ChildProcess
    let endpoint: String
    let dataDir: String

    static func start(binary: String) throws -> EtcdChild {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchError("--etcd: \(binary) is not an executable file") }
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-bench-etcd-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let client = "http://127.0.0.1:\(try freePort())"
        let peer = "http://127.0.0.1:\(try freePort())"
        let child = try ChildProcess.start(binary: binary, arguments: [
            "--name", "bench", "--data-dir", dataDir + "/member",
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "bench=\(peer)", "--logger", "zap", "--log-level", "error",
        ], log: dataDir + "/etcd.log")
        return EtcdChild(child: child, endpoint: client, dataDir: dataDir)
    }

    /// Stops etcd; its data dir goes too unless `keep` (a failed run's evidence).
    func stop(keep: Bool) async {
        _ = await child.stop()
        if keep {
            print("etcd log kept in \(child.logPath)")
        } else {
            try? FileManager.default.removeItem(atPath: dataDir)
        }
    }
}
