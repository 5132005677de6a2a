/// Rewrites kubectl-style arguments into what ArgumentParser reads: global flags given before
/// the verb (`kubectl -n ns get pods`) move behind it, and attached short values (`-oyaml`,
/// `-nkube-system`) are split.
enum ArgumentNormalizer {
    /// Short options that take a value somewhere in kubectl-lite.
    static let shortValueOptions: Set<Character> = ["n", "o", "l", "f", "c", "p", "v"]

    static func normalize(_ args: [String]) -> [String] {
        var split: [String] = []
        var afterDashDash = false
        for a in args {
            if afterDashDash || a == "--" {
                afterDashDash = true
                split.append(a)
                continue
            }
            if a.count > 2, a.hasPrefix("-"), !a.hasPrefix("--"), let c = a.dropFirst().first,
               shortValueOptions.contains(c) {
                var rest = String(a.dropFirst(2))
                if rest.hasPrefix("=") { rest.removeFirst() }
                split += ["-" + String(c), rest]
            } else {
                split.append(a)
            }
        }
        // Leading global flags (before the first word) go after the command words.
        var leading: [String] = []
        var i = 0
        while i < split.count, split[i].hasPrefix("-"), split[i] != "--" {
            let flag = split[i]
            leading.append(flag)
            let name = flag.split(separator: "=", maxSplits: 1).first.map(String.init) ?? flag
            if !flag.contains("="), GlobalOptions.valueFlags.contains(name), i + 1 < split.count {
                leading.append(split[i + 1])
                i += 1
            }
            i += 1
        }
        guard !leading.isEmpty, i < split.count else { return split }
        var rest = Array(split[i...])
        let end = rest.firstIndex(of: "--") ?? rest.count
        rest.insert(contentsOf: leading, at: end)
        return rest
    }
}
