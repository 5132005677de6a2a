/// Go's `text/tabwriter` algorithm (left-aligned, space padding, no flags), for output that
/// is not one uniform table: `describe` writes `Label:\tvalue` lines at several indents, and a
/// column's width is shared only by a block of consecutive lines that have a cell there.
/// Cells are tab-terminated; the text after a line's last tab is not part of any column.
struct ElasticTabstops {
    var minWidth: Int
    var padding: Int

    func format(_ text: String) -> String {
        var lines: [[String]] = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        // A final newline leaves an empty last line that is not printed.
        let endsWithNewline = text.hasSuffix("\n")
        if endsWithNewline { lines.removeLast() }
        let widthsOf = lines.map { $0.map(\.count) }
        var out = ""
        var widths: [Int] = []
        formatBlock(lines, widthsOf, &widths, 0, lines.count, &out)
        if !endsWithNewline, out.hasSuffix("\n") { out.removeLast() }
        return out
    }

    private func formatBlock(_ lines: [[String]], _ cellWidths: [[Int]], _ widths: inout [Int],
                             _ start: Int, _ end: Int, _ out: inout String) {
        var line0 = start
        let column = widths.count
        var this = start
        while this < end {
            if column >= lines[this].count - 1 { this += 1; continue }
            writeLines(lines, cellWidths, widths, line0, this, &out)
            line0 = this
            var width = minWidth
            while this < end, column < lines[this].count - 1 {
                width = max(width, cellWidths[this][column] + padding)
                this += 1
            }
            widths.append(width)
            formatBlock(lines, cellWidths, &widths, line0, this, &out)
            widths.removeLast()
            line0 = this
        }
        writeLines(lines, cellWidths, widths, line0, end, &out)
    }

    private func writeLines(_ lines: [[String]], _ cellWidths: [[Int]], _ widths: [Int],
                            _ from: Int, _ to: Int, _ out: inout String) {
        guard from < to else { return }
        for i in from..<to {
            for (j, cell) in lines[i].enumerated() {
                out += cell
                if j < widths.count && j < lines[i].count - 1 {
                    out += String(repeating: " ", count: max(0, widths[j] - cellWidths[i][j]))
                }
            }
            out += "\n"
        }
    }
}
