import ArgumentParser
import Foundation
import KubeModel

/// `kubectl create namespace NAME`.
struct CreateNamespace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "namespace", abstract: "Create a namespace with the specified name", aliases: ["ns"])
    @OptionGroup var global: GlobalOptions
    @ParentCommand var parent: Create
    @Argument var name: String
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        let obj: JSONValue = ["apiVersion": "v1", "kind": "Namespace",
                              "metadata": .object(["name": .string(name)]), "spec": .object([:]), "status": .object([:])]
        try await ObjectCreator.createGenerated(obj, global: global.merged(parent.global), dryRun: dryRun ?? parent.dryRun, output: output ?? parent.output)
    }
}

/// `kubectl create serviceaccount NAME`.
struct CreateServiceAccount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serviceaccount", abstract: "Create a service account with the specified name", aliases: ["sa"])
    @OptionGroup var global: GlobalOptions
    @ParentCommand var parent: Create
    @Argument var name: String
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        let obj: JSONValue = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": .object(["name": .string(name)])]
        try await ObjectCreator.createGenerated(obj, global: global.merged(parent.global), dryRun: dryRun ?? parent.dryRun, output: output ?? parent.output, failure: "failed to create serviceaccount: ")
    }
}

/// `kubectl create deployment NAME --image=IMAGE [--replicas=N] [--port=P]`.
struct CreateDeployment: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deployment", abstract: "Create a deployment with the specified name", aliases: ["deploy"])
    @OptionGroup var global: GlobalOptions
    @ParentCommand var parent: Create
    @Argument var name: String
    @Option(name: .customLong("image")) var images: [String] = []
    @Option(name: [.customShort("r"), .customLong("replicas")]) var replicas: Int64 = 1
    @Option(name: .customLong("port")) var port: Int64 = -1
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        guard !images.isEmpty else { throw CommandFailure.error("required flag(s) \"image\" not set") }
        let labels: JSONValue = .object(["app": .string(name)])
        let containers: [JSONValue] = images.map { image in
            var c: [String: JSONValue] = ["name": .string(Self.containerName(image)), "image": .string(image), "resources": .object([:])]
            if port >= 0 { c["ports"] = .array([.object(["containerPort": .int(port)])]) }
            return .object(c)
        }
        let obj: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": .object(["name": .string(name), "labels": labels]),
            "spec": .object([
                "replicas": .int(replicas), "selector": .object(["matchLabels": labels]), "strategy": .object([:]),
                "template": .object(["metadata": .object(["labels": labels, "creationTimestamp": .null]), "spec": .object(["containers": .array(containers)])]),
            ]),
            "status": .object([:]),
        ]
        try await ObjectCreator.createGenerated(obj, global: global.merged(parent.global), dryRun: dryRun ?? parent.dryRun, output: output ?? parent.output, failure: "failed to create deployment: ")
    }

    /// kubectl names the container after the image: last path part, without tag or digest.
    static func containerName(_ image: String) -> String {
        var base = Substring(image)
        if let at = base.firstIndex(of: "@") { base = base[..<at] }
        if let slash = base.lastIndex(of: "/") { base = base[base.index(after: slash)...] }
        if let colon = base.firstIndex(of: ":") { base = base[..<colon] }
        return String(base)
    }
}

/// `kubectl create configmap NAME --from-literal=K=V --from-file=[K=]PATH`.
struct CreateConfigMap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "configmap", abstract: "Create a config map from a local file, directory or literal value", aliases: ["cm"])
    @OptionGroup var global: GlobalOptions
    @ParentCommand var parent: Create
    @Argument var name: String
    @Option(name: .customLong("from-literal")) var literals: [String] = []
    @Option(name: .customLong("from-file")) var files: [String] = []
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        let data = try DataSources.collect(literals: literals, files: files)
        var obj: [String: JSONValue] = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(["name": .string(name)])]
        if !data.isEmpty { obj["data"] = .object(data.mapValues { .string(String(decoding: $0, as: UTF8.self)) }) }
        try await ObjectCreator.createGenerated(.object(obj), global: global.merged(parent.global), dryRun: dryRun ?? parent.dryRun, output: output ?? parent.output, failure: "failed to create configmap: ")
    }
}

/// `kubectl create secret generic NAME --from-literal=K=V --from-file=[K=]PATH [--type=T]`.
struct CreateSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "secret", abstract: "Create a secret using a specified subcommand",
                                                    subcommands: [CreateSecretGeneric.self])
    @ParentCommand var parent: Create
}

struct CreateSecretGeneric: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generic", abstract: "Create a secret from a local file, directory, or literal value")
    @OptionGroup var global: GlobalOptions
    @ParentCommand var secret: CreateSecret
    @Argument var name: String
    @Option(name: .customLong("from-literal")) var literals: [String] = []
    @Option(name: .customLong("from-file")) var files: [String] = []
    @Option(name: .customLong("type")) var type: String?
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        let data = try DataSources.collect(literals: literals, files: files)
        var obj: [String: JSONValue] = ["apiVersion": "v1", "kind": "Secret", "metadata": .object(["name": .string(name)])]
        if !data.isEmpty { obj["data"] = .object(data.mapValues { .string(Data($0).base64EncodedString()) }) }
        if let type { obj["type"] = .string(type) }
        try await ObjectCreator.createGenerated(.object(obj), global: global.merged(secret.parent.global), dryRun: dryRun ?? secret.parent.dryRun, output: output ?? secret.parent.output, failure: "failed to create secret ")
    }
}

/// `kubectl create token SERVICEACCOUNT [--duration=D] [--audience=A]`: prints a bound token.
struct CreateToken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Request a service account token")
    @OptionGroup var global: GlobalOptions
    @ParentCommand var parent: Create
    @Argument var serviceAccount: String
    @Option(name: .customLong("duration")) var duration: String?
    @Option(name: .customLong("audience")) var audiences: [String] = []

    func run() async throws {
        var spec: [String: JSONValue] = [:]
        if !audiences.isEmpty { spec["audiences"] = .array(audiences.map(JSONValue.string)) }
        if let duration {
            guard let s = DurationParser.seconds(duration) else { throw CommandFailure.error("invalid argument \"\(duration)\" for \"--duration\" flag") }
            if s > 0 { spec["expirationSeconds"] = .int(Int64(s)) }
        }
        let body: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": .object(spec)]
        let token = try await Session.with(global.merged(parent.global)) { session in
            let ns = try session.namespace()
            return try await session.client().create("/api/v1/namespaces/\(ns)/serviceaccounts/\(serviceAccount)/token", body)
        }
        Terminal.write((token["status"]?["token"]?.stringValue ?? "") + "\n")
    }
}

/// `--from-literal` and `--from-file` values, as the configmap and secret generators read them.
enum DataSources {
    static func collect(literals: [String], files: [String]) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for l in literals {
            guard let eq = l.firstIndex(of: "="), eq != l.startIndex else {
                throw CommandFailure.error("invalid literal source \(l), expected key=value")
            }
            let key = String(l[..<eq])
            guard out[key] == nil else { throw CommandFailure.error("cannot add key \(key), another key by that name already exists in Data for ConfigMap \"\"") }
            out[key] = Array(l[l.index(after: eq)...].utf8)
        }
        for f in files {
            var key: String? = nil
            var path = f
            if let eq = f.firstIndex(of: "=") { key = String(f[..<eq]); path = String(f[f.index(after: eq)...]) }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure.error("error reading \(path): no such file or directory")
            }
            out[key ?? (path as NSString).lastPathComponent] = Array(data)
        }
        return out
    }
}
