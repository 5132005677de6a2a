import KubeModel

/// `config view -o json` as kubectl prints it: Go encodes the kubeconfig structs, so fields
/// come in their declaration order (not sorted like an object from the server); map keys
/// and unknown fields follow sorted. Indented by four spaces.
enum KubeconfigJSON {
    /// Field order of each struct, found by the key that holds it.
    static let order: [String: [String]] = [
        "": ["kind", "apiVersion", "preferences", "clusters", "users", "contexts", "current-context", "extensions"],
        "preferences": ["colors", "extensions"],
        "clusters": ["name", "cluster"], "users": ["name", "user"], "contexts": ["name", "context"],
        "extensions": ["name", "extension"],
        "cluster": ["server", "tls-server-name", "insecure-skip-tls-verify", "certificate-authority", "certificate-authority-data",
                    "proxy-url", "disable-compression", "extensions"],
        "user": ["client-certificate", "client-certificate-data", "client-key", "client-key-data", "token", "tokenFile", "as",
                 "as-uid", "as-groups", "as-user-extra", "username", "password", "auth-provider", "exec", "extensions"],
        "context": ["cluster", "user", "namespace", "extensions"],
        "auth-provider": ["name", "config"],
        "exec": ["command", "args", "env", "apiVersion", "installHint", "provideClusterInfo", "interactiveMode"],
        "env": ["name", "value"],
    ]

    static func render(_ config: JSONValue) -> String {
        var out = ""
        write(config, key: "", level: 0, &out)
        return out + "\n"
    }

    private static func write(_ value: JSONValue, key: String, level: Int, _ out: inout String) {
        let pad = { (n: Int) in String(repeating: "    ", count: n) }
        switch value {
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                out += (i > 0 ? "," : "") + "\n" + pad(level + 1)
                write(item, key: key, level: level + 1, &out)
            }
            out += "\n" + pad(level) + "]"
        case .object(let fields):
            guard !fields.isEmpty else { out += "{}"; return }
            let known = order[key] ?? []
            let rank = { (k: String) in known.firstIndex(of: k) ?? known.count }
            let keys = fields.keys.sorted { (rank($0), $0) < (rank($1), $1) }
            out += "{"
            for (i, k) in keys.enumerated() {
                out += (i > 0 ? "," : "") + "\n" + pad(level + 1) + JSONWriter.string(.string(k)) + ": "
                // A struct's fields are looked up by their own key; map values keep no order.
                write(fields[k] ?? .null, key: known.isEmpty ? "" : k, level: level + 1, &out)
            }
            out += "\n" + pad(level) + "}"
        default:
            out += JSONWriter.string(value)
        }
    }
}
