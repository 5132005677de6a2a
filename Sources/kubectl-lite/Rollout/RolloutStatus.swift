import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl rollout status deployment/NAME`: prints progress until the rollout is done
/// (or with `--watch=false`, once).
struct RolloutStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the status of the rollout")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: [.customShort("w"), .customLong("watch")]) var watch: Bool = true
    @Option(name: .customLong("timeout")) var timeout: String = "0s"

    /// kubectl's status line for a Deployment, and whether the rollout is complete.
    static func status(_ d: JSONValue) throws -> (String, Bool) {
        let name = d["metadata"]?["name"]?.stringValue ?? ""
        let generation = d["metadata"]?["generation"]?.intValue ?? 0
        let status = d["status"] ?? .object([:])
        guard generation <= (status["observedGeneration"]?.intValue ?? 0) else {
            return ("Waiting for deployment spec update to be observed...\n", false)
        }
        let conditions = status["conditions"]?.arrayValue ?? []
        if conditions.contains(where: { $0["type"] == "Progressing" && $0["reason"] == "ProgressDeadlineExceeded" }) {
            throw CommandFailure.error("deployment \"\(name)\" exceeded its progress deadline")
        }
        let want = d["spec"]?["replicas"]?.intValue ?? 1
        let updated = status["updatedReplicas"]?.intValue ?? 0
        let replicas = status["replicas"]?.intValue ?? 0
        let available = status["availableReplicas"]?.intValue ?? 0
        if updated < want {
            return ("Waiting for deployment \"\(name)\" rollout to finish: \(updated) out of \(want) new replicas have been updated...\n", false)
        }
        if replicas > updated {
            return ("Waiting for deployment \"\(name)\" rollout to finish: \(replicas - updated) old replicas are pending termination...\n", false)
        }
        if available < updated {
            return ("Waiting for deployment \"\(name)\" rollout to finish: \(available) of \(updated) updated replicas are available...\n", false)
        }
        return ("deployment \"\(name)\" successfully rolled out\n", true)
    }

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            guard let ref = try await ObjectRef.select(args, session: session).first else {
                throw CommandFailure.error("required resource not specified")
            }
            guard ref.resource.kind == "Deployment" else {
                throw CommandFailure.error("no status viewer has been implemented for \(ref.resource.kind)")
            }
            let limit = DurationParser.seconds(timeout).flatMap { $0 > 0 ? $0 : nil }
            let deadline = limit.map { Date().addingTimeInterval($0) }
            var last = ""
            while true {
                let (line, done) = try Self.status(try await client.get(ref.path))
                if line != last { Terminal.write(line); last = line }
                if done || !watch { return }
                if let deadline, Date() > deadline { throw CommandFailure.error("timed out waiting for the condition") }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}
