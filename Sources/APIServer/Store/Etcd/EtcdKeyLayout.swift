import Foundation

/// Maps the store's keys (`/registry/<group>/<resource>/<namespace>/<name>`, `core` for the
/// core group) to etcd keys under the configured prefix, in Kubernetes' own layout, and back;
/// and computes the `range_end` that makes an etcd range a prefix scan.
///
/// Built-in resources drop their group as kube-apiserver's do (`/registry/pods/ns/name`,
/// `/registry/deployments/ns/name`), with its historical names: nodes under `minions`,
/// services under `services/specs`, endpoints under `services/endpoints`, replication
/// controllers under `controllers`, ingresses under `ingress`. CustomResourceDefinitions,
/// APIServices and custom resources keep their group (`/registry/<group>/<resource>/…`), and so
/// does anything else the server keeps (`/registry/ranges/…`).
struct EtcdKeyLayout: Sendable {
    /// The prefix the store's keys start with; replaced by the etcd prefix.
    static let storeRoot = "/registry"
    let prefix: String

    init(prefix: String) { self.prefix = prefix == "/" ? "" : prefix }

    /// `group/resource` of the store key (group `core` for the core group) → its path in
    /// Kubernetes' layout, and back.
    static let kubernetesPaths: (toEtcd: [String: String], toStore: [String: String]) = {
        let renamed = ["core/nodes": "minions", "core/services": "services/specs", "core/endpoints": "services/endpoints",
                       "core/replicationcontrollers": "controllers", "networking.k8s.io/ingresses": "ingress"]
        let groupKept: Set<String> = ["apiextensions.k8s.io", "apiregistration.k8s.io"]
        var toEtcd: [String: String] = [:], toStore: [String: String] = [:]
        // The core group first: a plural two groups share (events) goes to the core one.
        let definitions = BuiltinResources.all.map(\.definition).sorted { ($0.group.isEmpty ? 0 : 1) < ($1.group.isEmpty ? 0 : 1) }
        for d in definitions where !groupKept.contains(d.group) {
            let storePath = (d.group.isEmpty ? "core" : d.group) + "/" + d.plural
            let path = renamed[storePath] ?? d.plural
            guard toEtcd[storePath] == nil, toStore[path] == nil else { continue }
            toEtcd[storePath] = path
            toStore[path] = storePath
        }
        return (toEtcd, toStore)
    }()

    func etcdKey(_ storeKey: String) -> Data {
        let rest = storeKey.hasPrefix(Self.storeRoot) ? storeKey.dropFirst(Self.storeRoot.count) : Substring(storeKey)
        return Data((prefix + Self.kubernetesPath(rest)).utf8)
    }

    /// The store key of an etcd key, or nil for a key outside the prefix (or not UTF-8).
    func storeKey(_ etcdKey: Data) -> String? {
        guard let s = String(data: etcdKey, encoding: .utf8), s.hasPrefix(prefix) else { return nil }
        return Self.storeRoot + Self.storePath(s.dropFirst(prefix.count))
    }

    /// `/core/pods/ns/name` → `/pods/ns/name`; a path of no built-in resource is kept.
    static func kubernetesPath(_ path: Substring) -> String {
        let parts = path.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].isEmpty, let mapped = kubernetesPaths.toEtcd[String(parts[1]) + "/" + String(parts[2].prefix { $0 != "/" })] else {
            return String(path)
        }
        let afterResource = parts[2].drop { $0 != "/" }
        return "/" + mapped + afterResource
    }

    /// The inverse of `kubernetesPath`: two-segment paths (`services/specs`) first.
    static func storePath(_ path: Substring) -> String {
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].isEmpty else { return String(path) }
        if parts.count >= 3, let store = kubernetesPaths.toStore[String(parts[1]) + "/" + String(parts[2])] {
            return "/" + store + (parts.count > 3 ? "/" + parts[3] : "")
        }
        guard let store = kubernetesPaths.toStore[String(parts[1])] else { return String(path) }
        return "/" + store + (parts.count > 2 ? "/" + parts[2...].joined(separator: "/") : "")
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
