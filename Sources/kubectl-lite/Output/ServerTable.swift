import KubeModel

/// A `meta.k8s.io/v1` `Table` from the server and the way kubectl prints it: visible columns
/// (priority 0, or all with `-o wide`) upper-cased, optional NAMESPACE first and LABELS last,
/// and names prefixed with `kind.group/` when several kinds are printed together.
struct ServerTable {
    struct Column {
        var name: String
        var priority: Int
    }

    struct Row {
        var cells: [JSONValue]
        /// `PartialObjectMetadata` (or the full object with `includeObject=Object`).
        var object: JSONValue?
    }

    var columns: [Column]
    var rows: [Row]

    init(columns: [Column], rows: [Row]) {
        self.columns = columns
        self.rows = rows
    }

    /// Reads a Table answer; nil when the body is not a Table.
    init?(json t: JSONValue) {
        guard t["kind"]?.stringValue == "Table" else { return nil }
        columns = (t["columnDefinitions"]?.arrayValue ?? []).map {
            Column(name: $0["name"]?.stringValue ?? "", priority: Int($0["priority"]?.intValue ?? 0))
        }
        rows = (t["rows"]?.arrayValue ?? []).map {
            Row(cells: $0["cells"]?.arrayValue ?? [], object: $0["object"])
        }
    }

    /// How rows are decorated.
    struct PrintOptions {
        var wide = false
        var withNamespace = false
        var showLabels = false
        /// `deployment.apps` when names get a kind prefix.
        var kindPrefix: String?
        var noHeaders = false
    }

    func headerCells(_ o: PrintOptions) -> [String] {
        var h: [String] = o.withNamespace ? ["NAMESPACE"] : []
        for c in columns where o.wide || c.priority == 0 { h.append(c.name.uppercased()) }
        if o.showLabels { h.append("LABELS") }
        return h
    }

    func rowCells(_ row: Row, _ o: PrintOptions) -> [String] {
        var out: [String] = []
        if o.withNamespace { out.append(row.object?["metadata"]?["namespace"]?.stringValue ?? "") }
        for (i, c) in columns.enumerated() where o.wide || c.priority == 0 {
            var text = i < row.cells.count ? Self.cellText(row.cells[i]) : ""
            if i == 0, let prefix = o.kindPrefix { text = prefix + "/" + text }
            out.append(text)
        }
        if o.showLabels { out.append(Self.labelsText(row.object?["metadata"]?["labels"])) }
        return out
    }

    /// All lines (header unless `noHeaders`, then rows).
    func lines(_ o: PrintOptions) -> [[String]] {
        (o.noHeaders ? [] : [headerCells(o)]) + rows.map { rowCells($0, o) }
    }

    /// A cell as Go's `fmt.Sprint` shows it; strings stop at the first line break (`...` marks the cut).
    static func cellText(_ v: JSONValue) -> String {
        switch v {
        case .null: return ""
        case .string(let s):
            if let cut = s.firstIndex(where: { $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" }) {
                return String(s[..<cut]) + "..."
            }
            return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let n): return String(n)
        case .double: return JSONWriter.string(v)
        case .array, .object: return JSONWriter.string(v)
        }
    }

    /// `k=v,k2=v2` sorted by key, or `<none>`.
    static func labelsText(_ labels: JSONValue?) -> String {
        guard let o = labels?.objectValue, !o.isEmpty else { return "<none>" }
        return o.keys.sorted().map { "\($0)=\(o[$0]?.stringValue ?? "")" }.joined(separator: ",")
    }
}
