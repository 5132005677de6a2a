/// One step of a path into an object, as server-side apply tracks field ownership.
public enum PathElement: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A struct field or map key (`f:name`).
    case field(String)
    /// A list-map item by its key fields, an object of them (`k:{"name":"web"}`).
    case key(JSONValue)
    /// A set-list item by value (`v:"a"`).
    case value(JSONValue)
    /// An item of a list that is neither a map nor a set (`i:0`); rarely owned.
    case index(Int)

    /// The FieldsV1 key form: `f:name`, `k:{...}`, `v:...`, `i:0`.
    public var fieldsV1Key: String {
        switch self {
        case .field(let n): return "f:" + n
        case .key(let k): return "k:" + JSONWriter.string(k)
        case .value(let v): return "v:" + JSONWriter.string(v)
        case .index(let i): return "i:\(i)"
        }
    }

    /// Parses a FieldsV1 key; nil for anything malformed.
    public init?(fieldsV1Key s: String) {
        guard s.count >= 2, s.dropFirst().first == ":" else { return nil }
        let body = String(s.dropFirst(2))
        switch s.first {
        case "f": self = .field(body)
        case "k":
            guard let v = try? JSONParser.parse(body), v.objectValue != nil else { return nil }
            self = .key(v)
        case "v":
            guard let v = try? JSONParser.parse(body) else { return nil }
            self = .value(v)
        case "i":
            guard let i = Int(body) else { return nil }
            self = .index(i)
        default: return nil
        }
    }

    /// The form Kubernetes prints paths in: `.spec`, `[name="web"]`, `[="a"]`, `[0]`.
    public var description: String {
        switch self {
        case .field(let n): return "." + n
        case .key(let k):
            let parts = (k.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(JSONWriter.string($0.value))" }
            return "[" + parts.joined(separator: ",") + "]"
        case .value(let v): return "[=" + JSONWriter.string(v) + "]"
        case .index(let i): return "[\(i)]"
        }
    }

    /// Orders elements by their FieldsV1 key so output is deterministic.
    public static func < (a: PathElement, b: PathElement) -> Bool { a.fieldsV1Key < b.fieldsV1Key }
}

/// A path from an object's root, e.g. `.spec.template.spec.containers[name="web"].image`.
public struct FieldPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var elements: [PathElement]

    public init(_ elements: [PathElement]) { self.elements = elements }

    public var description: String { elements.map(\.description).joined() }

    public static func < (a: FieldPath, b: FieldPath) -> Bool {
        for (x, y) in zip(a.elements, b.elements) where x != y { return x < y }
        return a.elements.count < b.elements.count
    }
}
