/// Column alignment as kubectl's printers do it (Go `text/tabwriter` with minwidth 6,
/// padding 3, space padding): every column but the last is padded to its widest cell plus
/// three spaces, and at least six; widths count characters, not bytes.
struct TabWriter {
    static let minWidth = 6
    static let padding = 3

    /// Widths remembered from earlier rows (a watch keeps printing under the same header).
    var widths: [Int] = []

    /// Aligns `rows` (cells per row) into text, one line per row.
    mutating func format(_ rows: [[String]]) -> String {
        for row in rows {
            for (i, cell) in row.enumerated().dropLast() {
                let w = max(Self.minWidth, cell.count + Self.padding)
                if i < widths.count { widths[i] = max(widths[i], w) } else { widths.append(w) }
            }
        }
        var out = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                out += cell
                if i < row.count - 1 {
                    out += String(repeating: " ", count: max(0, widths[i] - cell.count))
                }
            }
            out += "\n"
        }
        return out
    }

    /// One-shot alignment.
    static func align(_ rows: [[String]]) -> String {
        var w = TabWriter()
        return w.format(rows)
    }
}
