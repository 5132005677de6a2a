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
}

