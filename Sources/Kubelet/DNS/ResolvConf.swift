import Foundation

/// The parts of a resolv.conf(5) the kubelet uses: the host's nameservers (the node DNS
/// server's upstreams, and `dnsPolicy: Default` pods' servers), search list and options.
public struct ResolvConf: Sendable, Equatable {
    public var nameservers: [String] = []
    public var searches: [String] = []
    public var options: [String] = []

    public init(nameservers: [String] = [], searches: [String] = [], options: [String] = []) {
        self.nameservers = nameservers
        self.searches = searches
        self.options = options
    }

    /// Later `search`/`domain` lines replace earlier ones, as the resolver reads them.
    public init(parsing text: String) {
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let key = fields.first else { continue }
            let values = Array(fields.dropFirst())
            switch key {
            case "nameserver": if let server = values.first { nameservers.append(server) }
            case "search", "domain": searches = values
            case "options": options += values
            default: continue
            }
        }
    }

    /// The file at `path`; an empty configuration when it cannot be read ("" reads nothing,
    /// as the kubelet's `--resolv-conf=""`).
    public static func load(path: String) -> ResolvConf {
        guard !path.isEmpty, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ResolvConf() }
        return ResolvConf(parsing: text)
    }

    public var rendered: String {
        var lines: [String] = []
        if !searches.isEmpty { lines.append("search " + searches.joined(separator: " ")) }
        lines += nameservers.map { "nameserver " + $0 }
        if !options.isEmpty { lines.append("options " + options.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }
}
