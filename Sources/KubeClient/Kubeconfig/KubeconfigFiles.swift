import Foundation
import KubeModel

/// kubectl's kubeconfig loading rules: `--kubeconfig FILE` alone (it must exist); otherwise
/// every file in `$KUBECONFIG` (colon-separated, missing files skipped) merged; otherwise
/// `~/.kube/config`. In a merge the first file that names a cluster, user or context wins for
/// that name, and `current-context` comes from the first file that sets it. Relative file
/// paths are resolved against the directory of the file that holds them.
public struct KubeconfigFiles: Sendable {
    /// The files that were read, in precedence order.
    public var paths: [String]
    /// Each file's decoded document as written, in `paths` order.
    public var documents: [JSONValue]
    /// Where writes that are not tied to an existing entry go (`current-context`, new contexts):
    /// the explicit file, else the first existing `$KUBECONFIG` file, else `~/.kube/config`.
    public var defaultPath: String

    /// Loads by kubectl's rules. `explicitPath` is `--kubeconfig`; `environment` supplies
    /// `KUBECONFIG` and `HOME`.
    public static func load(explicitPath: String?,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KubeconfigFiles {
        if let explicit = explicitPath, !explicit.isEmpty {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw KubeconfigError("stat \(explicit): no such file or directory")
            }
            return KubeconfigFiles(paths: [explicit], documents: [try read(explicit)], defaultPath: explicit)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            var seen = Set<String>()
            let candidates = list.split(separator: ":").map(String.init).filter { !$0.isEmpty && seen.insert($0).inserted }
            let existing = candidates.filter { FileManager.default.fileExists(atPath: $0) }
            let documents = try existing.map(read)
            let target = existing.first ?? candidates.last ?? ""
            return KubeconfigFiles(paths: existing, documents: documents, defaultPath: target)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = home + "/.kube/config"
        guard FileManager.default.fileExists(atPath: path) else {
            return KubeconfigFiles(paths: [], documents: [], defaultPath: path)
        }
        return KubeconfigFiles(paths: [path], documents: [try read(path)], defaultPath: path)
    }

    /// The merged document (`apiVersion`, `kind`, `clusters`, `users`, `contexts`,
    /// `current-context`, `preferences`), named lists sorted by name as kubectl prints them;
    /// file paths as written (what `config view` shows).
    public var merged: JSONValue { Self.merge(documents) }

    /// The merged document with relative file paths resolved against their own file's directory.
    public var resolved: JSONValue {
        Self.merge(zip(paths, documents).map { Self.resolvePaths($1, baseDirectory: ($0 as NSString).deletingLastPathComponent) })
    }

    /// Merges decoded kubeconfigs: first definition of a name wins; first `current-context` wins.
    public static func merge(_ documents: [JSONValue]) -> JSONValue {
        var current = ""
        var lists: [String: [String: JSONValue]] = ["clusters": [:], "users": [:], "contexts": [:]]
        for doc in documents {
            if current.isEmpty, let c = doc["current-context"]?.stringValue { current = c }
            for list in ["clusters", "users", "contexts"] {
                for item in doc[list]?.arrayValue ?? [] {
                    guard let name = item["name"]?.stringValue, lists[list]?[name] == nil else { continue }
                    lists[list]?[name] = item
                }
            }
        }
        var out: [String: JSONValue] = [
            "apiVersion": "v1", "kind": "Config", "preferences": .object([:]),
            "current-context": .string(current),
        ]
        for (list, entries) in lists {
            out[list] = entries.isEmpty ? .null
                : .array(entries.keys.sorted().compactMap { entries[$0] })
        }
        return .object(out)
    }

    /// The connection for `context` (or the merged `current-context`).
    public func connection(context: String? = nil) throws -> ClusterConnection {
        try Kubeconfig.parse(resolved, context: context, baseDirectory: nil)
    }

    /// Reads and decodes one file.
    static func read(_ path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeconfigError("open \(path): permission denied")
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return .object([:]) }
        let doc: JSONValue
        do { doc = try YAMLDecoding.decode(text) } catch {
            throw KubeconfigError("error loading config file \"\(path)\": \(error)")
        }
        guard doc.objectValue != nil else {
            throw KubeconfigError("error loading config file \"\(path)\": not a kubeconfig mapping")
        }
        return doc
    }

    /// Makes the file-valued fields of clusters and users absolute.
    static func resolvePaths(_ doc: JSONValue, baseDirectory: String) -> JSONValue {
        guard case .object(var o) = doc else { return doc }
        let fields = ["clusters": ("cluster", ["certificate-authority"]),
                      "users": ("user", ["client-certificate", "client-key", "tokenFile"])]
        for (list, (body, keys)) in fields {
            guard let items = o[list]?.arrayValue else { continue }
            o[list] = .array(items.map { item in
                guard case .object(var entry) = item, case .object(var inner)? = entry[body] else { return item }
                for key in keys {
                    if let p = inner[key]?.stringValue, !p.isEmpty {
                        inner[key] = .string(Kubeconfig.absolute(p, baseDirectory: baseDirectory))
                    }
                }
                entry[body] = .object(inner)
                return .object(entry)
            })
        }
        return .object(o)
    }
}
