import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl rollout undo deployment/NAME [--to-revision=N]`: the Deployment's template goes
/// back to that ReplicaSet's (without its `pod-template-hash` label).
struct RolloutUndo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undo", abstract: "Undo a previous rollout")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("to-revision")) var toRevision: Int64 = 0

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let d = try await client.get(ref.path)
                let sets = try await Revisions.replicaSets(of: d, client: client)
                let current = d["metadata"]?["annotations"]?[Revisions.annotation]?.stringValue.flatMap { Int64($0) } ?? sets.last?.0 ?? 0
                let target = toRevision > 0 ? sets.first { $0.0 == toRevision } : sets.last { $0.0 != current }
                guard let (_, rs) = target else {
                    throw CommandFailure.error(toRevision > 0 ? "unable to find specified revision \(toRevision) in history" : "no rollout history found for deployment \"\(ref.name)\"")
                }
                guard let template = Revisions.template(of: rs) else { continue }
                if JSONPatch.jsonEqual(template, d["spec"]?["template"] ?? .null) {
                    Terminal.write("\(ref.display) skipped rollback (current template already matches revision \(toRevision > 0 ? toRevision : current))\n")
                    continue
                }
                let patch: JSONValue = .object(["spec": .object(["template": template])])
                _ = try await client.patch(ref.path, patch, type: .merge)
                Terminal.write("\(ref.display) rolled back\n")
            }
        }
    }
}

/// `kubectl rollout pause|resume deployment/NAME`.
struct RolloutPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Mark the provided resource as paused")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    func run() async throws { try await RolloutToggle.set(true, args, global, done: "paused", already: "already paused") }
}

struct RolloutResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused resource")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    func run() async throws { try await RolloutToggle.set(false, args, global, done: "resumed", already: "is not paused") }
}

enum RolloutToggle {
    static func set(_ paused: Bool, _ args: [String], _ global: GlobalOptions, done: String, already: String) async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let d = try await client.get(ref.path)
                if (d["spec"]?["paused"]?.boolValue ?? false) == paused {
                    throw CommandFailure.error("\(ref.display) \(already)")
                }
                _ = try await client.patch(ref.path, .object(["spec": .object(["paused": .bool(paused)])]), type: .merge)
                Terminal.write("\(ref.display) \(done)\n")
            }
        }
    }
}

/// `kubectl rollout restart deployment/NAME`: stamps the pod template so every pod is replaced.
struct RolloutRestart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart a resource")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []

    func run() async throws {
        let stamp = ISO8601DateFormatter().string(from: Date())
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let patch: JSONValue = ["spec": ["template": ["metadata": ["annotations": .object(["kubectl.kubernetes.io/restartedAt": .string(stamp)])]]]]
                _ = try await client.patch(ref.path, patch, type: .strategicMerge)
                Terminal.write("\(ref.display) restarted\n")
            }
        }
    }
}
