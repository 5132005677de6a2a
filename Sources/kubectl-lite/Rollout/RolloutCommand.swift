import ArgumentParser

/// `kubectl rollout`: manage a Deployment's rollout.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Manage the rollout of a resource",
        subcommands: [RolloutStatus.self, RolloutHistory.self, RolloutUndo.self, RolloutPause.self,
                      RolloutResume.self, RolloutRestart.self])
}
