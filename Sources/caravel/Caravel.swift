import APIServer
import ArgumentParser
import Controllers
import Kubelet
import Foundation
import Logging
import ServiceLifecycle

@main
struct Caravel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caravel",
        abstract: "A Kubernetes-compatible control plane.",
        subcommands: [ServerCommand.self, APIServerCommand.self, ControllerManagerCommand.self, KubeletCommand.self, NodeKubeconfigCommand.self,
                      KillAllCommand.self, ImagesCommand.self]
    )

    /// ArgumentParser's own entry point, after the heap is set up.
    static func main() async {
        MallocArenas.limit()
        let trimming = Task { await MallocArenas.returnFreePages() }
        defer { trimming.cancel() }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

