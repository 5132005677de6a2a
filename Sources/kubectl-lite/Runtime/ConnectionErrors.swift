/// Words transport failures as kubectl does.
enum ConnectionErrors {
    /// `The connection to the server HOST:PORT was refused - ...` for a refused connection,
    /// otherwise the error's own description.
    static func describe(_ error: Error, server: String?) -> String {
        let text = String(describing: error)
        if let server, text.localizedCaseInsensitiveContains("refused") {
            return "The connection to the server \(hostPort(server)) was refused - did you specify the right host or port?"
        }
        if let server, text.localizedCaseInsensitiveContains("connectTimeout") || text.contains("deadlineExceeded") {
            return "Unable to connect to the server: dial tcp \(hostPort(server)): i/o timeout"
        }
        return "error: " + text
    }

    /// `https://127.0.0.1:6443/x` → `127.0.0.1:6443`.
    static func hostPort(_ server: String) -> String {
        var s = Substring(server)
        if let r = s.range(of: "://") { s = s[r.upperBound...] }
        if let slash = s.firstIndex(of: "/") { s = s[..<slash] }
        return String(s)
    }
}
