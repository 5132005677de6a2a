import APIServer
import ArgumentParser
import Foundation

struct NodeKubeconfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-kubeconfig",
        abstract: "Write a kubeconfig for a new node's kubelet (its own client certificate, CN=system:node:NAME).",
        discussion: "Run it where the server's data dir is; copy the file to the new node and start `caravel kubelet --kubeconfig FILE --node-name NAME` there."
    )

    @Option(help: "The server's data directory (holds pki/ and kubeconfig.yaml).")
    var dataDir: String = (NSHomeDirectory() as NSString).appendingPathComponent(".caravel")

    @Option(help: "Name of the node the kubeconfig is for.")
    var nodeName: String

    @Option(help: "Where to write it (default: DIR/node-NAME.kubeconfig).")
    var output: String?

    @Option(help: "API server address as the node reaches it (default: the server address of DIR/kubeconfig.yaml).")
    var server: String?

    func validate() throws {
        guard NodeName.isValid(nodeName) else { throw ValidationError("--node-name must be a lowercase DNS subdomain") }
    }

    func run() async throws {
        let path = output ?? (dataDir as NSString).appendingPathComponent("node-\(nodeName).kubeconfig")
        try NodeKubeconfig.write(dataDirectory: dataDir, nodeName: nodeName, server: server, to: path)
        print(path)
    }
}
