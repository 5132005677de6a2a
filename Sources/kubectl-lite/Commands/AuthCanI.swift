import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl auth can-i VERB RESOURCE[/NAME]`: a SelfSubjectAccessReview; prints yes or no
/// (exit 1 for no).
struct Auth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect authorization", subcommands: [AuthCanI.self])
}

struct AuthCanI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "can-i", abstract: "Check whether an action is allowed")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")]) var allNamespaces = false
    @Option(name: .customLong("subresource")) var subresource: String?

    func run() async throws {
        guard args.count >= 2 else { throw CommandFailure.error("you must specify two arguments: verb resource or verb resource/resourceName.") }
        let verb = args[0]
        let allowed = try await Session.with(global) { session -> Bool in
            var attributes: [String: JSONValue] = ["verb": .string(verb)]
            if args[1].hasPrefix("/") {
                attributes = [:]
                let nonResource: JSONValue = .object(["verb": .string(verb), "path": .string(args[1])])
                let review = try await session.client().create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                    ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": ["nonResourceAttributes": nonResource]])
                return review["status"]?["allowed"]?.boolValue ?? false
            }
            let parts = args[1].split(separator: "/", maxSplits: 1).map(String.init)
            let r = try await session.resolve(parts[0])[0]
            attributes["resource"] = .string(r.name)
            attributes["group"] = .string(r.group)
            if parts.count > 1 { attributes["name"] = .string(parts[1]) }
            if let subresource { attributes["subresource"] = .string(subresource) }
            if r.namespaced && !allNamespaces { attributes["namespace"] = .string(try session.namespace()) }
            let review = try await session.client().create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                 "spec": ["resourceAttributes": .object(attributes)]])
            return review["status"]?["allowed"]?.boolValue ?? false
        }
        if allowed { Terminal.write("yes\n") } else { throw CommandFailure("no") }
    }
}
