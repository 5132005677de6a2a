/// kubectl's JSONPath templates (`-o jsonpath=...`, `--sort-by`, `custom-columns`, `wait
/// --for=jsonpath=`): text with `{...}` actions holding paths (`.a.b`, `[0]`, `[*]`, `[1:3]`,
/// `..name`, `['x.y']`, `[?(@.k=="v")]`), `range`/`end` blocks and quoted literals. Maps and
/// lists print as compact JSON, several results of one action are separated by spaces, and a
/// missing key prints nothing.
public struct JSONPath: Sendable {
    indirect enum Step: Equatable, Sendable {
        case field(String)
        case recursive(String)
        case index(Int)
        case slice(Int?, Int?)
        case wildcard
        case filter([Step], String, JSONValue?)
    }

    enum Node: Sendable {
        case text(String)
        case path([Step])
        case range([Step], [Node])
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    let nodes: [Node]

    public init(_ template: String) throws {
        var index = template.startIndex
        nodes = try Self.parseNodes(template, &index, inRange: false)
    }

    /// Renders the template against `root`.
    public func render(_ root: JSONValue) -> String {
        var out = ""
        Self.run(nodes, root: root, current: root, &out)
        return out
    }

    /// The values a single-path template selects (for sorting and custom columns).
    public func values(_ root: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        for case .path(let steps) in nodes { out += Self.evaluate(steps, root: root, current: root) }
        return out
    }

    // MARK: - evaluation

    private static func run(_ nodes: [Node], root: JSONValue, current: JSONValue, _ out: inout String) {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .path(let steps):
                out += evaluate(steps, root: root, current: current).map(text).joined(separator: " ")
            case .range(let steps, let body):
                for v in evaluate(steps, root: root, current: current) {
                    let items: [JSONValue]
                    if steps.last.map(isMulti) == true { items = [v] } else { items = v.arrayValue ?? [v] }
                    for item in items { run(body, root: root, current: item, &out) }
                }
            }
        }
    }

    private static func isMulti(_ s: Step) -> Bool {
        switch s {
        case .wildcard, .slice, .filter, .recursive: return true
        default: return false
        }
    }

    /// Go's text form of one result.
    public static func text(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let n): return String(n)
        case .double, .array, .object: return JSONWriter.string(v)
        }
    }

    static func evaluate(_ steps: [Step], root: JSONValue, current: JSONValue) -> [JSONValue] {
        var values = [current]
        for step in steps {
            var next: [JSONValue] = []
            for v in values { next += apply(step, v) }
            values = next
        }
        return values
    }

    private static func apply(_ step: Step, _ v: JSONValue) -> [JSONValue] {
        switch step {
        case .field(let name):
            if let x = v.objectValue?[name] { return [x] }
            return []
        case .index(let i):
            guard let a = v.arrayValue else { return [] }
            let k = i < 0 ? a.count + i : i
            return a.indices.contains(k) ? [a[k]] : []
        case .slice(let s, let e):
            guard let a = v.arrayValue else { return [] }
            func clamp(_ x: Int) -> Int { min(max(x < 0 ? a.count + x : x, 0), a.count) }
            let lo = clamp(s ?? 0), hi = clamp(e ?? a.count)
            return lo < hi ? Array(a[lo..<hi]) : []
        case .wildcard:
            if let a = v.arrayValue { return a }
            if let o = v.objectValue { return o.keys.sorted().compactMap { o[$0] } }
            return []
        case .recursive(let name):
            var out: [JSONValue] = []
            collect(v, name, &out)
            return out
        case .filter(let path, let op, let rhs):
            guard let a = v.arrayValue else { return [] }
            return a.filter { item in
                let lhs = evaluate(path, root: item, current: item)
                guard let rhs else { return !lhs.isEmpty }
                return lhs.contains { compare($0, op, rhs) }
            }
        }
    }

    private static func collect(_ v: JSONValue, _ name: String, _ out: inout [JSONValue]) {
        switch v {
        case .object(let o):
            if name == "*" { out += o.keys.sorted().compactMap { o[$0] } } else if let x = o[name] { out.append(x) }
            for k in o.keys.sorted() { if let c = o[k] { collect(c, name, &out) } }
        case .array(let a):
            for c in a { collect(c, name, &out) }
        default: break
        }
    }

    private static func compare(_ l: JSONValue, _ op: String, _ r: JSONValue) -> Bool {
        if let a = l.doubleValue ?? l.intValue.map(Double.init), let b = r.doubleValue ?? r.intValue.map(Double.init) {
            switch op {
            case "==": return a == b
            case "!=": return a != b
            case "<": return a < b
            case "<=": return a <= b
            case ">": return a > b
            case ">=": return a >= b
            default: return false
            }
        }
        let a = text(l), b = text(r)
        switch op {
        case "==": return a == b
        case "!=": return a != b
        case "<": return a < b
        case ">": return a > b
        default: return false
        }
    }
}
