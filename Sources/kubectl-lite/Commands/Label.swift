import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl label` and `kubectl annotate`: `KEY=VALUE` sets, `KEY-` removes; an existing
/// different value needs `--overwrite`.
struct MetadataEditor {
    /// `labels` or `annotations`.
    var field: String
    /// `labeled` or `annotated`.
    var verb: String

    func run(_ args: [String], overwrite: Bool, selector: String?, all: Bool, global: GlobalOptions) async throws {
        var targets: [String] = []
        var set: [String: String] = [:]
        var remove: [String] = []
        for a in args {
            if let eq = a.firstIndex(of: "=") {
                set[String(a[..<eq])] = String(a[a.index(after: eq)...])
            } else if a.hasSuffix("-"), !targets.isEmpty {
                remove.append(String(a.dropLast()))
            } else {
                targets.append(a)
            }
        }
        if set.isEmpty && remove.isEmpty { throw CommandFailure.error("at least one \(field == "labels" ? "label" : "annotation") update is required") }
        try await Session.with(global) { session in
            let client = try session.client()
            for ref in try await ObjectRef.select(targets, session: session, selector: selector, all: all) {
                let live = try await client.get(ref.path)
                let current = live["metadata"]?[field]?.objectValue ?? [:]
                var patch: [String: JSONValue] = [:]
                for (k, v) in set.sorted(by: { $0.key < $1.key }) {
                    if let old = current[k]?.stringValue, old != v, !overwrite {
                        throw CommandFailure.error("'\(k)' already has a value (\(old)), and --overwrite is false")
                    }
                    if current[k]?.stringValue != v { patch[k] = .string(v) }
                }
                for k in remove where current[k] != nil { patch[k] = .null }
                if patch.isEmpty {
                    Terminal.write(field == "labels" ? "\(ref.display) not labeled\n" : "\(ref.display) \(verb)\n")
                    continue
                }
                _ = try await client.patch(ref.path, .object(["metadata": .object([field: .object(patch)])]), type: .merge)
                // kubectl says "unlabeled" when the labels only shrank.
                let shrank = field == "labels" && !overwrite && patch.values.allSatisfy { $0 == .null }
                Terminal.write("\(ref.display) \(shrank ? "unlabeled" : verb)\n")
            }
        }
    }
}

struct Label: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Update the labels on a resource")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Flag(name: .customLong("overwrite")) var overwrite = false
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: .customLong("all")) var all = false

    func run() async throws {
        try await MetadataEditor(field: "labels", verb: "labeled").run(args, overwrite: overwrite, selector: selector, all: all, global: global)
    }
}

struct Annotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Update the annotations on one or more resources")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Flag(name: .customLong("overwrite")) var overwrite = false
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: .customLong("all")) var all = false

    func run() async throws {
        try await MetadataEditor(field: "annotations", verb: "annotated").run(args, overwrite: overwrite, selector: selector, all: all, global: global)
    }
}
