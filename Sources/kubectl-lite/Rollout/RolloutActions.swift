import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl rollout undo deployment/NAME [--to-revision=N]`: the Deployment's template goes
/// back to that ReplicaSet's (without its `pod-template-hash` label) and its annotations to
/// the ReplicaSet's, with one JSON patch as kubectl sends it.
struct RolloutUndo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undo", abstract: "Undo a previous rollout")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("to-revision")) var toRevision: Int64 = 0

    /// Annotations that stay the Deployment's own instead of coming back from the ReplicaSet.
    static let ownAnnotations: Set<String> = [
        "kubectl.kubernetes.io/last-applied-configuration", Revisions.annotation,
        "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to",
    ]

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let d = try await client.get(ref.path)
                if d["spec"]?["paused"]?.boolValue == true {
                    // kubectl's text, whose command lacks the name (kubectl leaves it empty).
                    throw CommandFailure.error("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")
                }
                let sets = try await Revisions.replicaSets(of: d, client: client)
                let target: (Int64, JSONValue)?
                if toRevision > 0 {
                    target = sets.first { $0.0 == toRevision }
                } else {
                    // The newest revision but one, as kubectl picks it.
                    target = sets.count >= 2 ? sets[sets.count - 2] : nil
                }
                guard let (revision, rs) = target else {
                    throw CommandFailure.error(toRevision > 0 ? "unable to find specified revision \(toRevision) in history" : "no rollout history found for deployment \"\(ref.name)\"")
                }
                guard let template = Revisions.template(of: rs) else { continue }
                if JSONPatch.jsonEqual(template, DeploymentDescriber.stripHash(d["spec"]?["template"])) {
                    Terminal.write("\(ref.display) skipped rollback (current template already matches revision \(revision))\n")
                    continue
                }
                var annotations: [String: JSONValue] = [:]
                for (k, v) in d["metadata"]?["annotations"]?.objectValue ?? [:] where Self.ownAnnotations.contains(k) { annotations[k] = v }
                for (k, v) in rs["metadata"]?["annotations"]?.objectValue ?? [:] where !Self.ownAnnotations.contains(k) { annotations[k] = v }
                let patch: JSONValue = .array([
                    .object(["op": "replace", "path": "/spec/template", "value": template]),
                    .object(["op": "replace", "path": "/metadata/annotations", "value": .object(annotations)]),
                ])
                _ = try await client.patch(ref.path, patch, type: .json)
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
    func run() async throws { try await RolloutToggle.set(true, args, global, done: "paused", already: "is already paused") }
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
                    throw CommandFailure.error("\(ref.resource.qualifiedName) \"\(ref.name)\" \(already)")
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
                if try await client.get(ref.path)["spec"]?["paused"]?.boolValue == true {
                    throw CommandFailure.error("\(ref.resource.qualifiedName) \"\(ref.name)\" can't restart paused deployment (run rollout resume first)")
                }
                let patch: JSONValue = ["spec": ["template": ["metadata": ["annotations": .object(["kubectl.kubernetes.io/restartedAt": .string(stamp)])]]]]
                _ = try await client.patch(ref.path, patch, type: .strategicMerge)
                Terminal.write("\(ref.display) restarted\n")
            }
        }
    }
}
