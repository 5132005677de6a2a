import ArgumentParser

/// `kubectl config`: read and edit kubeconfig files.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Modify kubeconfig files",
        subcommands: [ConfigView.self, ConfigGetContexts.self, ConfigCurrentContext.self, ConfigUseContext.self,
                      ConfigSetContext.self])
}
