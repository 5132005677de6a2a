import Foundation
import KubeModel

extension KubeconfigFiles {
    /// The file that defines the named `context` (or `cluster`, `user`: pass the list name),
    /// else `defaultPath`: kubectl edits an entry where it lives and adds new ones to the first file.
    public func fileDefining(_ list: String, name: String) -> String {
        for (i, doc) in documents.enumerated() where (doc[list]?.arrayValue ?? []).contains(where: { $0["name"]?.stringValue == name }) {
            return paths[i]
        }
        return defaultPath
    }

    /// Reads `path` as written (relative paths kept), lets `change` edit it, and writes it back
    /// as YAML (mode 0600 for a new file). A missing file starts as an empty `Config`.
    public static func update(_ path: String, _ change: (inout [String: JSONValue]) throws -> Void) throws {
        var doc: [String: JSONValue] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self)
            if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                do { doc = try YAMLDecoding.decode(text).objectValue ?? [:] } catch {
                    throw KubeconfigError("error loading config file \"\(path)\": \(error)")
                }
            }
        }
        if doc["apiVersion"] == nil { doc["apiVersion"] = "v1" }
        if doc["kind"] == nil { doc["kind"] = "Config" }
        try change(&doc)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let exists = FileManager.default.fileExists(atPath: path)
        do {
            try Data(YAMLEncoding.encode(.object(doc)).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw KubeconfigError("error writing config file \"\(path)\": \(error)")
        }
        if !exists { chmod(path, 0o600) }
    }

    /// Sets (or adds) the named entry of a kubeconfig list (`contexts`, `clusters`, `users`);
    /// returns whether it was new.
    @discardableResult
    public static func upsert(_ doc: inout [String: JSONValue], list: String, name: String, body: String,
                              _ edit: (inout [String: JSONValue]) -> Void) -> Bool {
        var items = doc[list]?.arrayValue ?? []
        if let i = items.firstIndex(where: { $0["name"]?.stringValue == name }) {
            var inner = items[i][body]?.objectValue ?? [:]
            edit(&inner)
            var entry = items[i].objectValue ?? [:]
            entry[body] = .object(inner)
            items[i] = .object(entry)
            doc[list] = .array(items)
            return false
        }
        var inner: [String: JSONValue] = [:]
        edit(&inner)
        items.append(.object(["name": .string(name), body: .object(inner)]))
        doc[list] = .array(items)
        return true
    }
}
