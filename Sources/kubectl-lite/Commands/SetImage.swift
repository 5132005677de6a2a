import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl set image TYPE/NAME CONTAINER=IMAGE ...` (`*=IMAGE` for every container).
struct SetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Set specific features on objects", subcommands: [SetImage.self])
}

struct SetImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Update the image of a pod template")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []

    func run() async throws {
        let targets = args.filter { !$0.contains("=") }
        var images: [String: String] = [:]
        for a in args where a.contains("=") {
            let parts = a.split(separator: "=", maxSplits: 1).map(String.init)
            images[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        guard !images.isEmpty else { throw CommandFailure.error("at least one image update is required") }
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(targets, session: session) {
                let live = try await client.get(ref.path)
                let isPod = ref.resource.kind == "Pod"
                let spec = isPod ? live["spec"] : live["spec"]?["template"]?["spec"]
                var lists: [String: JSONValue] = [:]
                var found = Set<String>()
                for key in ["initContainers", "containers"] {
                    var changed: [JSONValue] = []
                    for c in spec?[key]?.arrayValue ?? [] {
                        let name = c["name"]?.stringValue ?? ""
                        if let image = images[name] ?? images["*"] {
                            changed.append(.object(["name": .string(name), "image": .string(image)]))
                            found.insert(name)
                        }
                    }
                    if !changed.isEmpty { lists[key] = .array(changed) }
                }
                for name in images.keys where name != "*" && !found.contains(name) {
                    throw CommandFailure.error("unable to find container named \"\(name)\"")
                }
                let inner: JSONValue = .object(lists)
                let patch: JSONValue = isPod ? .object(["spec": inner]) : .object(["spec": .object(["template": .object(["spec": inner])])])
                _ = try await client.patch(ref.path, patch, type: .strategicMerge)
                Terminal.write("\(ref.display) image updated\n")
            }
        }
    }
}
