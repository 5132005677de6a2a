import ArgumentParser
import Foundation
import Kubelet
import Logging

struct KillAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "killall",
        abstract: "Stop every pod of a data directory: processes, network namespaces, cgroups, tmpfs mounts, nftables tables, the pod bridge.",
        discussion: """
            Pods outlive `caravel server` and `caravel kubelet` (a restart adopts them). This ends them, \
            as k3s-killall.sh does: stop the server or kubelet first, or it starts them again. Pods' \
            logs stay under DIR/kubelet/logs.
            """
    )

    @Option(help: "The server's data directory (its kubelet root is DIR/kubelet).")
    var dataDir: String?

    @Option(help: "A kubelet root directory (`caravel kubelet --root-dir`) instead of a data directory.")
    var rootDir: String?

    @Option(help: "The node's name, whose pod bridge is removed once no pod is attached (default: this host's name, as `caravel server` names its node).")
    var nodeName: String = ProcessInfo.processInfo.hostName.lowercased()

    func validate() throws {
        guard (dataDir == nil) != (rootDir == nil) else { throw ValidationError("give one of --data-dir or --root-dir") }
    }

    func run() async throws {
        let root = rootDir ?? ((dataDir ?? "") as NSString).appendingPathComponent("kubelet")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            print("no kubelet root at \(root): nothing to stop")
            return
        }
        var logger = Logger(label: "caravel.killall")
        logger.logLevel = .warning
        let report = await PodReaper(rootDirectory: root, nodeName: nodeName, logger: logger).run()
        print("caravel killall \(root)")
        print(report.summary)
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
