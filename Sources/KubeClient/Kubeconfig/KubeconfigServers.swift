import KubeModel

/// Several API servers for one kubeconfig cluster. The cluster's `server` stays one URL (what
/// kubectl and client-go read); the others are listed in a cluster extension that other
/// clients ignore:
///
///     clusters:
///     - name: caravel
///       cluster:
///         server: https://127.0.0.1:6443
///         extensions:
///         - name: caravel.dev/servers
///           extension:
///             servers: [https://127.0.0.1:6444, https://127.0.0.1:6445]
///
/// Caravel's clients try them in order when a server cannot be reached.
public enum KubeconfigServers {
    public static let extensionName = "caravel.dev/servers"

    /// The extension's servers other than `server`, in order, without duplicates. Each must be
    /// an http(s) URL of the same scheme as `server` (the TLS settings are shared).
    static func fallbacks(_ cluster: JSONValue, clusterName: String, server: String) throws -> [String] {
        let entries = cluster["extensions"]?.arrayValue ?? []
        guard let entry = entries.first(where: { $0["name"]?.stringValue == extensionName }) else { return [] }
        guard let list = entry[path: ["extension", "servers"]]?.arrayValue else {
            throw KubeconfigError("cluster \"\(clusterName)\" extension \(extensionName) has no servers list")
        }
        let scheme = server.lowercased().hasPrefix("https://") ? "https://" : "http://"
        var out: [String] = []
        for item in list {
            guard var url = item.stringValue, url.lowercased().hasPrefix(scheme) else {
                throw KubeconfigError("cluster \"\(clusterName)\" extension \(extensionName): \(item) is not an \(scheme) URL like the server")
            }
            while url.hasSuffix("/") { url.removeLast() }
            if url != server && !out.contains(url) { out.append(url) }
        }
        return out
    }
}
