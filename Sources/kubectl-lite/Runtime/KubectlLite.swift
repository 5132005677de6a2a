import ArgumentParser

/// The root command: kubectl's verbs as subcommands (`RootHelp` groups them for `--help`).
struct KubectlLite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubectl-lite",
        abstract: "kubectl-lite controls the Kubernetes cluster manager.",
        subcommands: [
            Create.self, Expose.self, Run.self, SetCommand.self,
            Explain.self, Get.self, Edit.self, Delete.self,
            RolloutCommand.self, Scale.self, Autoscale.self,
            ClusterInfo.self, Top.self,
            Describe.self, Logs.self, Exec.self, Auth.self, Events.self,
            Apply.self, Patch.self, Wait.self,
            Label.self, Annotate.self,
            APIResources.self, APIVersions.self, ConfigCommand.self, VersionCommand.self,
        ])
}
