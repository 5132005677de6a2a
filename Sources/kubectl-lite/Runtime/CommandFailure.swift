import KubeClient

/// An error worded as kubectl words it, with kubectl's exit code. `run()` methods throw it;
/// the entry point prints `message` to stderr and exits with `exitCode`.
struct CommandFailure: Error {
    /// Complete text for stderr (without the final newline).
    var message: String
    var exitCode: Int32 = 1

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    /// `error: MESSAGE`, kubectl's form for client-side problems.
    static func error(_ message: String) -> CommandFailure { CommandFailure("error: " + message) }

    /// The text kubectl prints for any error (`Error from server (NotFound): ...` for API errors).
    static func describe(_ error: Error, server: String? = nil) -> String {
        switch error {
        case let f as CommandFailure: return f.message
        case let api as KubeAPIError: return serverError(api)
        case let k as KubeconfigError: return "error: " + k.message
        case let m as RESTMapperError: return "error: " + m.description
        default: return ConnectionErrors.describe(error, server: server)
        }
    }

    /// `Error from server (Reason): message`, as kubectl's `StandardErrorMessage`.
    static func serverError(_ e: KubeAPIError) -> String {
        let reason = e.reason.isEmpty || e.status == nil ? "" : " (\(e.reason))"
        return "Error from server\(reason): \(e.message)"
    }
}
