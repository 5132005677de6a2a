import APIServer
import ArgumentParser
import Foundation
import Logging

@main
struct Caravel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caravel",
        abstract: "A Kubernetes-compatible control plane.",
        subcommands: [ServerCommand.self]
    )
}

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the all-in-one server: the Kubernetes API over an embedded SQLite store."
    )

    @Option(help: "Directory for the store and the admin kubeconfig.")
    var dataDir: String = (NSHomeDirectory() as NSString).appendingPathComponent(".caravel")

    @Option(help: "Port the API server listens on.")
    var port: Int = 6443

    @Option(help: "Address the API server binds to.")
    var bindAddress: String = "127.0.0.1"

    @Option(help: "Number of recent events kept for resuming watches (at least 1000).")
    var watchCacheSize: Int = 10_000

    @Option(help: "Name of the built-in node (used once the kubelet runs inside the server).")
    var nodeName: String = ProcessInfo.processInfo.hostName

    @Option(help: "Container runtime of the built-in node: process or fake.")
    var runtime: String = "process"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard watchCacheSize >= 1000 else { throw ValidationError("--watch-cache-size must be at least 1000") }
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard ["process", "fake"].contains(runtime) else { throw ValidationError("--runtime must be process or fake") }
    }

    func run() async throws {
        var logger = Logger(label: "caravel")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let config = APIServerConfiguration(dataDirectory: dataDir, port: port, bindAddress: bindAddress, watchCacheSize: watchCacheSize)
        let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
        try await app.runService()
    }
}
