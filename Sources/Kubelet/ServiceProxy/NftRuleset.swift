/// The proxy's nftables table as data: named sets and chains with their rules, rendered into
/// one `nft -f` script. Keeping the previous ruleset lets an update flush and refill chains in
/// place, so affinity sets keep their entries across updates.
public struct NftRuleset: Sendable, Equatable {
    public struct Chain: Sendable, Equatable {
        public var name: String
        /// "type nat hook prerouting priority dstnat; policy accept;" for a base chain.
        public var hook: String?
        public var rules: [String]
    }

    public struct NamedSet: Sendable, Equatable {
        public var name: String
        public var declaration: String
    }

    /// "ip caravel-proxy-…".
    public var table: String
    public var sets: [NamedSet] = []
    public var chains: [Chain] = []

    public init(table: String) { self.table = table }

    public func chain(_ name: String) -> Chain? { chains.first { $0.name == name } }

    /// The transaction that turns `previous` (what the kernel holds) into this ruleset; with no
    /// previous ruleset the table is deleted and built from scratch. One `nft -f` run applies
    /// it atomically: packets see the old rules or the new ones, never a mix.
    public func script(replacing previous: NftRuleset?) -> String {
        var lines = ["add table \(table)"]
        if let previous {
            let newChains = Set(chains.map(\.name))
            let newSets = Dictionary(sets.map { ($0.name, $0.declaration) }, uniquingKeysWith: { a, _ in a })
            // Everything that may refer to a set or chain is emptied before anything is deleted.
            lines += previous.chains.map { "flush chain \(table) \($0.name)" }
            lines += previous.chains.filter { !newChains.contains($0.name) }.map { "delete chain \(table) \($0.name)" }
            lines += previous.sets.filter { newSets[$0.name] != $0.declaration }.map { "delete set \(table) \($0.name)" }
        } else {
            lines.append("delete table \(table)")
            lines.append("add table \(table)")
        }
        lines += sets.map { "add set \(table) \($0.name) { \($0.declaration) }" }
        lines += chains.map { chain in
            "add chain \(table) \(chain.name)" + (chain.hook.map { " { \($0) }" } ?? "")
        }
        for chain in chains {
            lines += chain.rules.map { "add rule \(table) \(chain.name) \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// True when `listing` (what `nft list table` prints) lacks one of this ruleset's chains:
    /// the table was flushed, or chains deleted, behind the proxy's back.
    public func isMissingChains(in listing: String) -> Bool {
        let present = Set(listing.split(separator: "\n").compactMap { line -> Substring? in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return words.count >= 2 && words[0] == "chain" ? words[1] : nil
        })
        return chains.contains { !present.contains(Substring($0.name)) }
    }
}
