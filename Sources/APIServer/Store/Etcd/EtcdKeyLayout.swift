import Foundation

/// Maps the store's keys (`/registry/<group>/<resource>/<namespace>/<name>`, `core` for the
/// core group) to etcd keys under the configured prefix and back, and computes the
/// `range_end` that makes an etcd range a prefix scan.
struct EtcdKeyLayout: Sendable {
    /// The prefix the store's keys start with; replaced by the etcd prefix.
    static let storeRoot = "/registry"
    let prefix: String

    init(prefix: String) { self.prefix = prefix == "/" ? "" : prefix }

    func etcdKey(_ storeKey: String) -> Data {
        let rest = storeKey.hasPrefix(Self.storeRoot) ? storeKey.dropFirst(Self.storeRoot.count) : Substring(storeKey)
        return Data((prefix + rest).utf8)
    }

    /// The store key of an etcd key, or nil for a key outside the prefix (or not UTF-8).
    func storeKey(_ etcdKey: Data) -> String? {
        guard let s = String(data: etcdKey, encoding: .utf8), s.hasPrefix(prefix) else { return nil }
        return Self.storeRoot + s.dropFirst(prefix.count)
    }

    /// The smallest key greater than every key starting with `key`: etcd's prefix range end.
    static func rangeEnd(forPrefix key: Data) -> Data {
        var bytes = Array(key)
        while let last = bytes.last {
            if last < 0xff {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes)
            }
            bytes.removeLast()
        }
        return Data([0])  // every key
    }

    /// The key right after `key`: a range starting there excludes `key` itself.
    static func successor(_ key: Data) -> Data { key + Data([0]) }
}
