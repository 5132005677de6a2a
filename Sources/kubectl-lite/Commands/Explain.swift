import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl explain RESOURCE[.field.path]`: the kind, version and fields of a resource from
/// the server's OpenAPI v3 document for its group-version, as kubectl prints them.
struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Get documentation for a resource")
    @OptionGroup var global: GlobalOptions
    @Argument var path: String
    @Option(name: .customLong("api-version")) var apiVersion: String?
    @Flag(name: .customLong("recursive")) var recursive = false

    func run() async throws {
        let parts = path.split(separator: ".").map(String.init)
        guard let resource = parts.first else { throw CommandFailure.error("You must specify the type of resource to explain.") }
        try await Session.with(global) { session in
            let r = try await session.mapper().resource(resource)
            let groupVersion = r.group.isEmpty ? "api/\(r.version)" : "apis/\(r.group)/\(r.version)"
            let document = try await session.client().get("/openapi/v3/" + groupVersion)
            let explain = ExplainText(document: document, recursive: recursive)
            let gvk: JSONValue = .object(["group": .string(r.group), "kind": .string(r.kind), "version": .string(r.version)])
            guard let root = (document["components"]?["schemas"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }).first(where: { _, schema in
                (schema["x-kubernetes-group-version-kind"]?.arrayValue ?? []).contains(gvk)
            })?.value else {
                throw CommandFailure.error("GVK \(r.group)/\(r.version), Kind=\(r.kind) not found in OpenAPI schema")
            }
            // kubectl's template has printed these lines before it finds the field missing.
            Terminal.write((r.group.isEmpty ? "" : "GROUP:      \(r.group)\n") + "KIND:       \(r.kind)\nVERSION:    \(r.version)\n\n")
            guard let body = explain.render(root: root, path: Array(parts.dropFirst())) else {
                throw CommandFailure.error("field \"\(parts.last ?? "")\" does not exist")
            }
            Terminal.write(body + "\n")
        }
    }
}
