import KubeModel

/// `--sort-by=JSONPATH`: a stable sort on the value the path selects in each object; numbers
/// compare as numbers, everything else as text, objects without the field first.
enum Sorting {
    static func sort<T>(_ items: [T], by spec: String, object: (T) -> JSONValue) throws -> [T] {
        var expr = spec
        if !expr.hasPrefix("{") { expr = "{" + expr + "}" }
        let path: JSONPath
        do { path = try JSONPath(expr) } catch {
            throw CommandFailure.error("couldn't parse --sort-by \(spec)")
        }
        let keyed = items.enumerated().map { (i, item) in (i, item, path.values(object(item)).first) }
        return keyed.sorted { a, b in
            switch (a.2, b.2) {
            case (nil, nil): return a.0 < b.0
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if let p = number(x), let q = number(y), p != q { return p < q }
                let s = JSONPath.text(x), t = JSONPath.text(y)
                return s == t ? a.0 < b.0 : s < t
            }
        }.map(\.1)
    }

    private static func number(_ v: JSONValue) -> Double? {
        if let i = v.intValue { return Double(i) }
        if let d = v.doubleValue { return d }
        if let s = v.stringValue, s.first?.isNumber == true, let q = Quantity.parse(s) { return q.doubleValue }
        return nil
    }
}
