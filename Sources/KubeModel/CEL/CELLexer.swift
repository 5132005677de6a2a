/// One token of a CEL expression.
struct CELToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case int(Int64)
        /// An integer literal too large for int64 that may still be negated (`-9223372036854775808`).
        case intMinMagnitude
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case ident(String)
        /// Punctuation and operators: `(`, `&&`, `==`, `?`, ...
        case punct(String)
        case eof
    }

    var kind: Kind
    /// UTF-8 offset of the first character, for error positions.
    var offset: Int
}

/// Splits a CEL expression into tokens (the lexical grammar of the CEL spec).
struct CELLexer {
    private let chars: [Character]
    private let source: String
    private var pos = 0

    init(_ source: String) {
        self.source = source
        chars = Array(source)
    }

    /// Words that may not name a variable or function; they remain valid field names (`request.namespace`).
    static let reserved: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ]

    mutating func tokens() throws(CELError) -> [CELToken] {
        var out: [CELToken] = []
        while true {
            skipSpaceAndComments()
            let start = pos
            guard pos < chars.count else {
                out.append(CELToken(kind: .eof, offset: start))
                return out
            }
            out.append(CELToken(kind: try next(), offset: start))
        }
    }

    /// 1-based line and column of a character offset, as cel-go prints them.
    static func position(_ source: String, _ offset: Int) -> (Int, Int) {
        var line = 1, col = 1
        for (i, c) in source.enumerated() {
            if i >= offset { break }
            if c == "\n" { line += 1; col = 1 } else { col += 1 }
        }
        return (line, col)
    }

    private func error(_ message: String, at offset: Int) -> CELError {
        let (line, col) = Self.position(source, offset)
        return CELError(.syntax, message, line: line, column: col)
    }

    private var current: Character? { pos < chars.count ? chars[pos] : nil }
    private func peek(_ n: Int = 1) -> Character? { pos + n < chars.count ? chars[pos + n] : nil }

    private mutating func skipSpaceAndComments() {
        while let c = current {
            if c.isWhitespace {
                pos += 1
            } else if c == "/", peek() == "/" {
                while let d = current, d != "\n" { pos += 1 }
            } else {
                return
            }
        }
    }

    private mutating func next() throws(CELError) -> CELToken.Kind {
        guard let c = current else { return .eof }
        // String and bytes literals with their r/b prefixes.
        if c == "\"" || c == "'" { return .string(try stringLiteral(raw: false).text) }
        if "rRbB".contains(c), let n = peek() {
            let lower = c.lowercased()
            if n == "\"" || n == "'" {
                pos += 1
                let s = try stringLiteral(raw: lower == "r", bytes: lower == "b")
                return lower == "b" ? .bytes(s.bytes) : .string(s.text)
            }
            if let n2 = peek(2), "rRbB".contains(n), n.lowercased() != lower, n2 == "\"" || n2 == "'" {
                pos += 2
                let s = try stringLiteral(raw: true, bytes: true)
                return .bytes(s.bytes)
            }
        }
        if c.isNumber || (c == "." && peek()?.isNumber == true) { return try number() }
        if c.isLetter || c == "_" {
            let start = pos
            while let d = current, d.isLetter || d.isNumber || d == "_" { pos += 1 }
            return .ident(String(chars[start..<pos]))
        }
        for op in ["&&", "||", "==", "!=", "<=", ">="] where matches(op) {
            pos += 2
            return .punct(op)
        }
        if "()[]{}.,:?!<>+-*/%".contains(c) {
            pos += 1
            return .punct(String(c))
        }
        throw error("token recognition error at: '\(c)'", at: pos)
    }

    private func matches(_ s: String) -> Bool {
        for (i, ch) in s.enumerated() where (pos + i >= chars.count || chars[pos + i] != ch) { return false }
        return true
    }

    private mutating func number() throws(CELError) -> CELToken.Kind {
        let start = pos
        if current == "0", let x = peek(), x == "x" || x == "X" {
            pos += 2
            let digitsStart = pos
            while let d = current, d.isHexDigit { pos += 1 }
            let digits = String(chars[digitsStart..<pos])
            if current == "u" || current == "U" {
                pos += 1
                guard let u = UInt64(digits, radix: 16) else { throw error("invalid uint literal", at: start) }
                return .uint(u)
            }
            guard let i = Int64(digits, radix: 16) else { throw error("invalid int literal", at: start) }
            return .int(i)
        }
        while let d = current, d.isNumber { pos += 1 }
        var isDouble = false
        if current == ".", peek()?.isNumber == true {
            isDouble = true
            pos += 1
            while let d = current, d.isNumber { pos += 1 }
        }
        if let e = current, e == "e" || e == "E" {
            var p = pos + 1
            if p < chars.count, chars[p] == "+" || chars[p] == "-" { p += 1 }
            if p < chars.count, chars[p].isNumber {
                isDouble = true
                pos = p
                while let d = current, d.isNumber { pos += 1 }
            }
        }
        let text = String(chars[start..<pos])
        if isDouble {
            guard let d = Double(text) else { throw error("invalid double literal", at: start) }
            return .double(d)
        }
        if current == "u" || current == "U" {
            pos += 1
            guard let u = UInt64(text) else { throw error("invalid uint literal", at: start) }
            return .uint(u)
        }
        if text == "9223372036854775808" { return .intMinMagnitude }
        guard let i = Int64(text) else { throw error("invalid int literal", at: start) }
        return .int(i)
    }

    /// A quoted literal at `pos` (single, double or triple quotes); escapes unless raw.
    private mutating func stringLiteral(raw: Bool, bytes: Bool = false) throws(CELError) -> (text: String, bytes: [UInt8]) {
        let start = pos
        guard let quote = current else { throw error("unterminated string", at: start) }
        let triple = peek() == quote && peek(2) == quote
        pos += triple ? 3 : 1
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw error("unterminated string", at: start) }
            if triple {
                if c == quote, peek() == quote, peek(2) == quote { pos += 3; break }
            } else {
                if c == quote { pos += 1; break }
                if c == "\n" || c == "\r" { throw error("unterminated string", at: start) }
            }
            if c == "\\" && !raw {
                try escape(into: &out, bytes: bytes)
                continue
            }
            out += Array(String(c).utf8)
            pos += 1
        }
        return (String(decoding: out, as: UTF8.self), out)
    }

    private mutating func escape(into out: inout [UInt8], bytes: Bool) throws(CELError) {
        let at = pos
        pos += 1
        guard let e = current else { throw error("unterminated escape", at: at) }
        pos += 1
        let simple: [Character: UInt8] = [
            "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "'": 39, "\"": 34, "`": 96, "?": 63,
        ]
        if let b = simple[e] { out.append(b); return }
        func hex(_ n: Int) throws(CELError) -> UInt32 {
            guard pos + n <= chars.count, let v = UInt32(String(chars[pos..<pos + n]), radix: 16) else {
                throw error("invalid escape sequence", at: at)
            }
            pos += n
            return v
        }
        switch e {
        case "x", "X":
            let v = try hex(2)
            if bytes { out.append(UInt8(v)) } else { try appendScalar(v, &out, at) }
        case "u":
            try appendScalar(try hex(4), &out, at)
        case "U":
            try appendScalar(try hex(8), &out, at)
        case "0"..."3":
            guard pos + 2 <= chars.count, let v = UInt32(String(e) + String(chars[pos..<pos + 2]), radix: 8) else {
                throw error("invalid escape sequence", at: at)
            }
            pos += 2
            if bytes { out.append(UInt8(v)) } else { try appendScalar(v, &out, at) }
        default:
            throw error("invalid escape sequence: \\\(e)", at: at)
        }
    }

    private func appendScalar(_ v: UInt32, _ out: inout [UInt8], _ at: Int) throws(CELError) {
        guard let scalar = Unicode.Scalar(v) else { throw error("invalid unicode code point", at: at) }
        out += Array(String(Character(scalar)).utf8)
    }
}
