import Foundation
import KubeModel

/// Reads `-f` arguments as kubectl does: files, directories (their `.json`, `.yaml`, `.yml`
/// files in name order; subdirectories with `-R`), `-` for stdin; multi-document YAML; `List`
/// objects expanded into their items.
enum ManifestReader {
    static let extensions = ["json", "yaml", "yml"]

    static func read(_ paths: [String], recursive: Bool) throws -> [Manifest] {
        var out: [Manifest] = []
        for path in paths {
            if path == "-" {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                out += try decode(String(decoding: data, as: UTF8.self), source: "STDIN")
                continue
            }
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw CommandFailure.error("the path \"\(path)\" does not exist")
            }
            if isDir.boolValue {
                for file in try files(in: path, recursive: recursive) { out += try decode(file: file) }
            } else {
                out += try decode(file: path)
            }
        }
        return out
    }

    private static func files(in dir: String, recursive: Bool) throws -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var out: [String] = []
        for name in entries.sorted() {
            let path = (dir as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            if isDir.boolValue {
                if recursive { out += try files(in: path, recursive: true) }
            } else if extensions.contains((name as NSString).pathExtension) {
                out.append(path)
            }
        }
        return out
    }

    private static func decode(file: String) throws -> [Manifest] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandFailure.error("open \(file): permission denied")
        }
        return try decode(String(decoding: data, as: UTF8.self), source: file)
    }

    static func decode(_ text: String, source: String) throws -> [Manifest] {
        let docs: [JSONValue]
        do { docs = try YAMLDecoding.documents(text) } catch {
            throw CommandFailure.error("error parsing \(source): \(error)")
        }
        var out: [Manifest] = []
        for doc in docs {
            guard case .object(let o) = doc, !o.isEmpty else { continue }
            if let kind = o["kind"]?.stringValue, kind.hasSuffix("List"), let items = o["items"]?.arrayValue {
                out += items.map { Manifest(object: $0, source: source) }
                continue
            }
            var missing: [String] = []
            if (o["apiVersion"]?.stringValue ?? "").isEmpty { missing.append("apiVersion not set") }
            if (o["kind"]?.stringValue ?? "").isEmpty { missing.append("kind not set") }
            if !missing.isEmpty {
                throw CommandFailure("error: error validating \"\(source)\": error validating data: [\(missing.joined(separator: ", "))]; if you choose to ignore these errors, turn validation off with --validate=false")
            }
            out.append(Manifest(object: doc, source: source))
        }
        return out
    }
}
