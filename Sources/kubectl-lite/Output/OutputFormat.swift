/// The `-o` flag's value.
enum OutputFormat: Equatable {
    case table
    case wide
    case yaml
    case json
    case name
    case jsonPath(String)
    case customColumns(String)

    static let allowed = "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"

    init(_ flag: String?) throws {
        guard let flag, !flag.isEmpty else { self = .table; return }
        switch flag {
        case "wide": self = .wide
        case "yaml": self = .yaml
        case "json": self = .json
        case "name": self = .name
        default:
            if flag.hasPrefix("jsonpath=") { self = .jsonPath(String(flag.dropFirst(9))); return }
            if flag.hasPrefix("custom-columns=") { self = .customColumns(String(flag.dropFirst(15))); return }
            throw CommandFailure.error("unable to match a printer suitable for the output format \"\(flag)\", allowed formats are: \(Self.allowed)")
        }
    }

    /// Whether the server's Table is printed (the human-readable formats).
    var isTable: Bool { self == .table || self == .wide }
}
