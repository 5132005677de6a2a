import ArgumentParser
import KubeClient
import KubeModel

/// The ReplicaSets a Deployment owns, by revision (`deployment.kubernetes.io/revision`).
enum Revisions {
    static let annotation = "deployment.kubernetes.io/revision"
    static let changeCause = "kubernetes.io/change-cause"

    static func replicaSets(of deployment: JSONValue, client: KubeRESTClient) async throws -> [(Int64, JSONValue)] {
        let ns = deployment["metadata"]?["namespace"]?.stringValue ?? "default"
        let uid = deployment["metadata"]?["uid"]
        let list = try await client.list("/apis/apps/v1/namespaces/\(ns)/replicasets")
        return (list["items"]?.arrayValue ?? []).compactMap { rs -> (Int64, JSONValue)? in
            let owned = (rs["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains { $0["uid"] == uid }
            guard owned, let rev = rs["metadata"]?["annotations"]?[annotation]?.stringValue.flatMap({ Int64($0) }) else { return nil }
            return (rev, rs)
        }.sorted { $0.0 < $1.0 }
    }

    /// A ReplicaSet's pod template as its Deployment wrote it: without the `pod-template-hash`
    /// label the Deployment controller adds (what `undo` writes back).
    static func template(of replicaSet: JSONValue) -> JSONValue? {
        guard let template = replicaSet["spec"]?["template"], template.objectValue != nil else { return nil }
        return DeploymentDescriber.stripHash(template)
    }
}

/// `kubectl rollout history deployment/NAME [--revision=N]`.
struct RolloutHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "View rollout history")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("revision")) var revision: Int64 = 0

    func run() async throws {
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(args, session: session) {
                let d = try await client.get(ref.path)
                let sets = try await Revisions.replicaSets(of: d, client: client)
                if revision > 0 {
                    guard let rs = sets.first(where: { $0.0 == revision })?.1 else {
                        throw CommandFailure.error("unable to find the specified revision")
                    }
                    // kubectl describes the ReplicaSet's template as stored, hash label included,
                    // with the ReplicaSet's change-cause among its annotations.
                    var template = rs["spec"]?["template"] ?? .object([:])
                    if let cause = rs["metadata"]?["annotations"]?[Revisions.changeCause]?.stringValue, !cause.isEmpty {
                        var annotations = template["metadata"]?["annotations"]?.objectValue ?? [:]
                        annotations[Revisions.changeCause] = .string(cause)
                        var metadata = template["metadata"]?.objectValue ?? [:]
                        metadata["annotations"] = .object(annotations)
                        template = .object((template.objectValue ?? [:]).merging(["metadata": .object(metadata)]) { $1 })
                    }
                    var w = DescribeWriter()
                    DeploymentDescriber.podTemplate(&w, template)
                    Terminal.write("\(ref.display) with revision #\(revision)\n" + w.unaligned + "\n")
                    continue
                }
                // kubectl's tabwriter: two spaces between columns, a blank line after the table.
                var rows = "REVISION\tCHANGE-CAUSE\n"
                for (rev, rs) in sets {
                    rows += "\(rev)\t\(rs["metadata"]?["annotations"]?[Revisions.changeCause]?.stringValue ?? "<none>")\n"
                }
                Terminal.write("\(ref.display) \n" + ElasticTabstops(minWidth: 0, padding: 2).format(rows) + "\n")
            }
        }
    }
}
