import Foundation
import KubeModel

/// kubectl's on-disk discovery cache: `CACHE/discovery/<host_port>/servergroups.json` and
/// `<group>/<version>/serverresources.json` (`v1/serverresources.json` for the core group),
/// each valid for `ttl` after it was written. Both tools read each other's files.
public struct DiscoveryCache: Sendable {
    /// The per-server directory.
    public var directory: String
    /// How long a file stays fresh (kubectl: 6 hours).
    public var ttl: TimeInterval

    /// `cacheDir` is kubectl's `--cache-dir` (default `~/.kube/cache`).
    public init(cacheDir: String, server: String, ttl: TimeInterval = 6 * 3600) {
        self.directory = cacheDir + "/discovery/" + Self.hostDirectory(server)
        self.ttl = ttl
    }

    /// The host part of the server URL with every character other than letters, digits, `_`,
    /// `/`, `.`, `(` and `)` replaced by `_` (so `127.0.0.1:6443` → `127.0.0.1_6443`).
    public static func hostDirectory(_ server: String) -> String {
        var host = server
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) {
            host.removeFirst(scheme.count)
            break
        }
        return String(host.map { c -> Character in
            if c.isASCII && (c.isLetter || c.isNumber) { return c }
            return "_/.()".contains(c) ? c : "_"
        })
    }

    /// The file for the group list.
    public var groupsFile: String { directory + "/servergroups.json" }

    /// The file for one group-version's resource list.
    public func resourcesFile(groupVersion: String) -> String { directory + "/" + groupVersion + "/serverresources.json" }

    /// The decoded file when it exists and is younger than `ttl`.
    public func read(_ file: String, now: Date = Date()) -> JSONValue? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: file),
              let modified = attrs[.modificationDate] as? Date,
              now.timeIntervalSince(modified) < ttl,
              let data = FileManager.default.contents(atPath: file) else { return nil }
        return try? JSONParser.parse(Array(data))
    }

    /// Writes `value` atomically; failures are ignored (a read-only home must not break a command).
    public func write(_ value: JSONValue, to file: String) {
        let dir = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o750])
        let tmp = file + ".\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(JSONWriter.bytes(value)),
                                             attributes: [.posixPermissions: 0o660]) else { return }
        if rename(tmp, file) != 0 { unlink(tmp) }
    }

    /// Drops the server's cached files (kubectl does this when a name does not resolve).
    public func invalidate() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
