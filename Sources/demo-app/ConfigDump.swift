import Foundation

/// GET /config: what the ConfigMap and Secret volumes hold, so that an e2e test (or a person
/// with curl) sees what the kubelet mounted. Secrets show only their length.
enum ConfigDump {
    static func render(configDir: String?, secretDir: String?) -> String {
        var out = ""
        if let dir = configDir {
            out += section(dir) { name, data in
                "\(name)=\(oneLine(String(decoding: data, as: UTF8.self)))\n"
            }
        }
        if let dir = secretDir {
            out += section(dir) { name, data in "\(name): \(data.count) bytes\n" }
        }
        return out
    }

    private static func section(_ dir: String, line: (String, Data) -> String) -> String {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            return "# cannot read \(dir): \(error.localizedDescription)\n"
        }
        var out = ""
        // Kubernetes' atomic writer keeps `..data` and timestamped `..2024_…` entries next to
        // the key symlinks: skip every dotfile and read only what resolves to a regular file.
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = (dir as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            out += line(name, data)
        }
        return out
    }

    /// One line per file: a trailing newline is dropped and inner ones shown as `\n`.
    private static func oneLine(_ s: String) -> String {
        var s = s
        while s.hasSuffix("\n") { s.removeLast() }
        return s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
