import ArgumentParser
import KubeClient
import KubeModel

/// The ReplicaSets a Deployment owns, by revision (`deployment.kubernetes.io/revision`).
enum Revisions {
    static let annotation = "deployment.kubernetes.io/revision"

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
    /// label the Deployment controller adds.
    static func template(of replicaSet: JSONValue) -> JSONValue? {
        guard case .object(var template)? = replicaSet["spec"]?["template"] else { return nil }
        if case .object(var m)? = template["metadata"], case .object(var l)? = m["labels"] {
            l["pod-template-hash"] = nil
            m["labels"] = .object(l)
            template["metadata"] = .object(m)
        }
        return .object(template)
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
                    let template = Revisions.template(of: rs) ?? .object([:])
                    Terminal.write("\(ref.display) with revision #\(revision)\n" + YAMLEncoding.encode(template) + "\n")
                    continue
                }
                var rows: [[String]] = [["REVISION", "CHANGE-CAUSE"]]
                for (rev, rs) in sets {
                    rows.append([String(rev), rs["metadata"]?["annotations"]?["kubernetes.io/change-cause"]?.stringValue ?? "<none>"])
                }
                Terminal.write("\(ref.display) \n" + TabWriter.align(rows) + "\n")
            }
        }
    }
}
