import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl create -f FILE`, and `create namespace|deployment|configmap|secret generic|serviceaccount|token`.
struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a resource from a file or from stdin",
        subcommands: [CreateNamespace.self, CreateDeployment.self, CreateConfigMap.self, CreateSecret.self,
                      CreateServiceAccount.self, CreateToken.self])

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("f"), .customLong("filename")], help: "Filename, directory, or URL to files to use to create the resource")
    var filenames: [String] = []
    @Flag(name: [.customShort("R"), .customLong("recursive")], help: "Process the directory used in -f, --filename recursively.")
    var recursive = false
    @Option(name: .customLong("dry-run"), help: "Must be \"none\", \"server\", or \"client\".") var dryRun: String?
    @Flag(name: .customLong("save-config"), help: "If true, the configuration of current object will be saved in its annotation.")
    var saveConfig = false
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format. One of: (json, yaml, name).") var output: String?

    func run() async throws {
        guard !filenames.isEmpty else {
            throw CommandFailure("error: must specify one of -f and -k\n\nSee 'kubectl create -h' for help and examples")
        }
        let mode = try DryRun(flag: dryRun)
        let manifests = try ManifestReader.read(filenames, recursive: recursive)
        try await Session.with(global) { session in
            let targets = try await ManifestTarget.resolve(manifests, session: session)
            var failures: [String] = []
            for t in targets {
                let object = saveConfig ? ClientSideApply.annotated(t.object) : t.object
                do {
                    try await ObjectCreator.create(object, at: t.collectionPath.path, display: t.displayName,
                                                   client: try session.client(), dryRun: mode, output: output)
                } catch let e as KubeAPIError {
                    failures.append("Error from server (\(e.reason)): error when creating \"\(t.manifest.source)\": \(e.message)")
                }
            }
            if !failures.isEmpty { throw CommandFailure(failures.joined(separator: "\n")) }
        }
    }
}

/// Posts one object and prints kubectl's line for it (or the object with `-o`).
enum ObjectCreator {
    static func create(_ object: JSONValue, at collection: String, display: String, client: KubeRESTClient,
                       dryRun: DryRun, output: String?) async throws {
        var result = object
        if dryRun != .client {
            var query = dryRun.query
            query["fieldManager"] = "kubectl-create"
            result = try await client.create(collection, object, query: query)
        }
        switch output {
        case "yaml": Terminal.write(YAMLEncoding.encode(result))
        case "json": Terminal.write(JSONWriter.prettyString(result) + "\n")
        case "name": Terminal.write(display + "\n")
        default: Terminal.write("\(display) created\(dryRun.suffix)\n")
        }
    }

    /// Creates a generated object (the `create <kind>` verbs) in `namespace` when the resource is namespaced.
    /// `failure` is how kubectl words a refused create for this generator (`failed to create
    /// configmap: `), nil to show the server's error as is.
    static func createGenerated(_ object: JSONValue, global: GlobalOptions, dryRun: String?, output: String?,
                                failure: String? = nil) async throws {
        let mode = try DryRun(flag: dryRun)
        try await Session.with(global) { session in
            let apiVersion = object["apiVersion"]?.stringValue ?? "", kind = object["kind"]?.stringValue ?? ""
            guard let r = try await session.resource(apiVersion: apiVersion, kind: kind) else {
                throw CommandFailure.error("the server doesn't have a resource type \"\(kind)\"")
            }
            let ns = r.namespaced ? try session.namespace() : nil
            var obj = object
            if let ns { obj = ManifestTarget.setting(["metadata", "namespace"], to: .string(ns), in: obj) }
            // kubectl's generators serialize an unset creation time as null.
            obj = ManifestTarget.setting(["metadata", "creationTimestamp"], to: .null, in: obj)
            let name = obj["metadata"]?["name"]?.stringValue ?? ""
            do {
                try await create(obj, at: r.path(namespace: ns).path, display: r.kindPrefix + "/" + name,
                                 client: try session.client(), dryRun: mode, output: output)
            } catch let e as KubeAPIError where failure != nil {
                throw CommandFailure.error((failure ?? "") + e.message)
            }
        }
    }
}
