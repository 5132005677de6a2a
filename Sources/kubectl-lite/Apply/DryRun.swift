/// `--dry-run=none|client|server`.
enum DryRun: String {
    case none, client, server

    init(flag: String?) throws {
        guard let flag else { self = .none; return }
        guard let v = DryRun(rawValue: flag) else {
            throw CommandFailure.error("Invalid dry-run value (\(flag)). Must be \"none\", \"server\", or \"client\".")
        }
        self = v
    }

    /// What kubectl appends to its messages.
    var suffix: String {
        switch self {
        case .none: return ""
        case .client: return " (dry run)"
        case .server: return " (server dry run)"
        }
    }

    /// Query parameters for a write.
    var query: [String: String] { self == .server ? ["dryRun": "All"] : [:] }
}
