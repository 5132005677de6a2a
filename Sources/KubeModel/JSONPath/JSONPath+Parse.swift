extension JSONPath {
    static func parseNodes(_ t: String, _ i: inout String.Index, inRange: Bool) throws -> [Node] {
        var nodes: [Node] = []
        var text = ""
        while i < t.endIndex {
            let c = t[i]
            guard c == "{" else {
                text.append(c)
                i = t.index(after: i)
                continue
            }
            if !text.isEmpty { nodes.append(.text(text)); text = "" }
            guard let close = closingBrace(t, from: i) else {
                throw ParseError(description: "unclosed action")
            }
            let inner = String(t[t.index(after: i)..<close]).trimmingCharacters(in: " ")
            i = t.index(after: close)
            if inner == "end" {
                guard inRange else { throw ParseError(description: "not in range, nothing to end") }
                return nodes
            }
            if inner.hasPrefix("range ") {
                let steps = try parsePath(String(inner.dropFirst(6)).trimmingCharacters(in: " "))
                let body = try parseNodes(t, &i, inRange: true)
                nodes.append(.range(steps, body))
                continue
            }
            if let literal = quoted(inner) {
                nodes.append(.text(literal))
                continue
            }
            nodes.append(.path(try parsePath(inner)))
        }
        if inRange { throw ParseError(description: "unexpected EOF in range") }
        if !text.isEmpty { nodes.append(.text(text)) }
        return nodes
    }

    /// The `}` that closes the action opened at `open`, skipping quoted text.
    private static func closingBrace(_ t: String, from open: String.Index) -> String.Index? {
        var quote: Character?
        var j = t.index(after: open)
        while j < t.endIndex {
            let c = t[j]
            if let q = quote {
                if c == "\\" { j = t.index(after: j) } else if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "}" {
                return j
            }
            if j < t.endIndex { j = t.index(after: j) }
        }
        return nil
    }

    /// `"..."` or `'...'` with Go escapes (`\n`, `\t`); nil for anything else.
    static func quoted(_ s: String) -> String? {
        guard s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f else { return nil }
        var out = ""
        var escape = false
        for c in s.dropFirst().dropLast() {
            if escape {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(c)
                }
                escape = false
            } else if c == "\\" {
                escape = true
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// `.a.b[0]['c.d'][*]..e[?(@.x=="y")]`; `@` and `$` name the current object.
    static func parsePath(_ p: String) throws -> [Step] {
        var steps: [Step] = []
        let chars = Array(p)
        var i = 0
        if i < chars.count, chars[i] == "@" || chars[i] == "$" { i += 1 }
        func name() -> String {
            var n = ""
            while i < chars.count, chars[i] != ".", chars[i] != "[" { n.append(chars[i]); i += 1 }
            return n
        }
        while i < chars.count {
            switch chars[i] {
            case ".":
                i += 1
                if i < chars.count, chars[i] == "." {
                    i += 1
                    steps.append(.recursive(name()))
                } else {
                    let n = name()
                    if n == "*" { steps.append(.wildcard) } else if !n.isEmpty { steps.append(.field(n)) }
                }
            case "[":
                guard let close = matchingBracket(chars, i) else { throw ParseError(description: "unterminated array") }
                let inner = String(chars[(i + 1)..<close]).trimmingCharacters(in: " ")
                i = close + 1
                steps.append(try bracket(inner))
            default:
                let n = name()
                if n == "*" { steps.append(.wildcard) } else { steps.append(.field(n)) }
            }
        }
        return steps
    }

    private static func matchingBracket(_ chars: [Character], _ open: Int) -> Int? {
        var depth = 0
        var quote: Character?
        for j in open..<chars.count {
            let c = chars[j]
            if let q = quote { if c == q { quote = nil }; continue }
            if c == "\"" || c == "'" { quote = c } else if c == "[" { depth += 1 } else if c == "]" {
                depth -= 1
                if depth == 0 { return j }
            }
        }
        return nil
    }

    private static func bracket(_ inner: String) throws -> Step {
        if inner == "*" { return .wildcard }
        if let q = quoted(inner) { return .field(q) }
        if inner.hasPrefix("?(") && inner.hasSuffix(")") {
            let body = String(inner.dropFirst(2).dropLast()).trimmingCharacters(in: " ")
            for op in ["==", "!=", "<=", ">=", "<", ">"] {
                if let r = body.range(of: op) {
                    let lhs = String(body[..<r.lowerBound]).trimmingCharacters(in: " ")
                    let rhsText = String(body[r.upperBound...]).trimmingCharacters(in: " ")
                    let rhs: JSONValue = quoted(rhsText).map(JSONValue.string)
                        ?? Int64(rhsText).map(JSONValue.int) ?? Double(rhsText).map(JSONValue.double)
                        ?? (rhsText == "true" ? .bool(true) : rhsText == "false" ? .bool(false) : .string(rhsText))
                    return .filter(try parsePath(lhs), op, rhs)
                }
            }
            return .filter(try parsePath(body), "", nil)
        }
        if inner.contains(":") {
            let parts = inner.split(separator: ":", omittingEmptySubsequences: false).map { Int(String($0).trimmingCharacters(in: " ")) }
            return .slice(parts.first ?? nil, parts.count > 1 ? parts[1] : nil)
        }
        guard let n = Int(inner) else { throw ParseError(description: "invalid array index \(inner)") }
        return .index(n)
    }
}
