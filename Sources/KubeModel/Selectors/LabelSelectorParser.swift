/// Lexer and parser for the label selector string grammar, following the token rules and
/// error wording of `k8s.io/apimachinery/pkg/labels/selector.go`.
struct LabelSelectorParser {
    enum Token: Equatable {
        case identifier, endOfString, openPar, closedPar, comma, doesNotExist, equals, doubleEquals
        case notEquals, greaterThan, lessThan, `in`, notIn, error
    }

    private static let symbols: [String: Token] = [
        "!": .doesNotExist, "!=": .notEquals, "(": .openPar, ")": .closedPar, ",": .comma,
        "=": .equals, "==": .doubleEquals, ">": .greaterThan, "<": .lessThan,
    ]

    private var items: [(Token, String)] = []
    private var pos = 0

    init(_ s: String) {
        let b = Array(s.utf8)
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        func isSpecial(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: ">"), UInt8(ascii: "<"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","): return true
            default: return false
            }
        }
        while true {
            while i < b.count, isSpace(b[i]) { i += 1 }
            guard i < b.count else { items.append((.endOfString, "")); break }
            if isSpecial(b[i]) {
                // Longest run of special characters that still names a token, e.g. "!=" but "=(" is "=".
                var j = i
                var best: (Token, Int)?
                while j < b.count, isSpecial(b[j]) {
                    let candidate = String(decoding: b[i...j], as: UTF8.self)
                    if let t = Self.symbols[candidate] { best = (t, j + 1) } else if best != nil { break }
                    j += 1
                }
                if let (t, end) = best {
                    items.append((t, String(decoding: b[i..<end], as: UTF8.self)))
                    i = end
                } else {
                    items.append((.error, "error expected: keyword found '\(String(decoding: b[i..<j], as: UTF8.self))'"))
                    i = j
                }
            } else {
                let start = i
                while i < b.count, !isSpace(b[i]), !isSpecial(b[i]) { i += 1 }
                let word = String(decoding: b[start..<i], as: UTF8.self)
                items.append((word == "in" ? .in : word == "notin" ? .notIn : .identifier, word))
            }
        }
    }

    /// In value position the keywords `in`/`notin` are plain identifiers.
    private func lookahead(values: Bool = true) -> (Token, String) {
        let (t, lit) = items[min(pos, items.count - 1)]
        if values, t == .in || t == .notIn { return (.identifier, lit) }
        return (t, lit)
    }

    private mutating func consume(values: Bool = true) -> (Token, String) {
        let r = lookahead(values: values)
        if pos < items.count - 1 { pos += 1 }
        return r
    }

    mutating func parse() throws(SelectorParseError) -> [LabelSelector.Requirement] {
        var reqs: [LabelSelector.Requirement] = []
        while true {
            let (t, lit) = lookahead()
            switch t {
            case .identifier, .doesNotExist:
                do {
                    reqs.append(try parseRequirement())
                } catch {
                    throw SelectorParseError("unable to parse requirement: \(error.message)")
                }
                let (t2, lit2) = consume()
                switch t2 {
                case .endOfString: return reqs
                case .comma:
                    let (t3, lit3) = lookahead()
                    if t3 != .identifier && t3 != .doesNotExist {
                        throw SelectorParseError("found '\(lit3)', expected: identifier after ','")
                    }
                default:
                    throw SelectorParseError("found '\(lit2)', expected: ',' or 'end of string'")
                }
            case .endOfString:
                return reqs
            default:
                throw SelectorParseError("found '\(lit)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    private mutating func parseRequirement() throws(SelectorParseError) -> LabelSelector.Requirement {
        var (t, key) = consume()
        var op: LabelSelector.Operator?
        if t == .doesNotExist {
            op = .doesNotExist
            (t, key) = consume()
        }
        guard t == .identifier else { throw SelectorParseError("found '\(key)', expected: identifier") }
        if let e = LabelValidation.keyError(key, path: "<nil>") { throw SelectorParseError(e) }
        let next = lookahead().0
        // "!a=b" ends the requirement at "a"; the caller then rejects "=" as Kubernetes does.
        if op == .doesNotExist || next == .endOfString || next == .comma {
            return try LabelSelector.Requirement(key: key, op: op ?? .exists, values: [])
        }
        let (ot, olit) = consume(values: false)
        let binary: LabelSelector.Operator
        switch ot {
        case .in: binary = .in
        case .notIn: binary = .notIn
        case .equals: binary = .equals
        case .doubleEquals: binary = .doubleEquals
        case .notEquals: binary = .notEquals
        case .greaterThan: binary = .greaterThan
        case .lessThan: binary = .lessThan
        default: throw SelectorParseError("found '\(olit)', expected: in, notin, =, ==, !=, gt, lt")
        }
        let values: [String]
        switch binary {
        case .in, .notIn: values = try parseValues()
        default: values = try parseExactValue()
        }
        return try LabelSelector.Requirement(key: key, op: binary, values: values)
    }

    private mutating func parseValues() throws(SelectorParseError) -> [String] {
        let (t, lit) = consume()
        guard t == .openPar else { throw SelectorParseError("found '\(lit)' expected: '('") }
        let (t2, lit2) = lookahead()
        switch t2 {
        case .identifier, .comma:
            let list = try parseIdentifiersList()
            let (t3, lit3) = consume()
            guard t3 == .closedPar else { throw SelectorParseError("found '\(lit3)', expected: ')'") }
            return list
        case .closedPar:
            _ = consume()
            return [""]  // "()" is the set holding the empty value, as in Kubernetes
        default:
            throw SelectorParseError("found '\(lit2)', expected: ',', ')' or identifier")
        }
    }

    private mutating func parseIdentifiersList() throws(SelectorParseError) -> [String] {
        var out: Set<String> = []
        while true {
            let (t, lit) = consume()
            switch t {
            case .identifier:
                out.insert(lit)
                let (t2, lit2) = lookahead()
                switch t2 {
                case .comma: continue
                case .closedPar: return Array(out)
                default: throw SelectorParseError("found '\(lit2)', expected: ',' or ')'")
                }
            case .comma:
                // Empty slots ("(,a)", "(a,)", "(a,,b)") stand for the empty value.
                if out.isEmpty { out.insert("") }
                let t2 = lookahead().0
                if t2 == .closedPar { out.insert(""); return Array(out) }
                if t2 == .comma { _ = consume(); out.insert("") }
            default:
                throw SelectorParseError("found '\(lit)', expected: ',', or identifier")
            }
        }
    }

    private mutating func parseExactValue() throws(SelectorParseError) -> [String] {
        let t = lookahead().0
        if t == .endOfString || t == .comma { return [""] }
        let (t2, lit) = consume()
        guard t2 == .identifier else { throw SelectorParseError("found '\(lit)', expected: identifier") }
        return [lit]
    }
}
