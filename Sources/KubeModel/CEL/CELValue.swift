import Foundation

/// A CEL runtime value. Maps keep their insertion order (for deterministic `map`/`filter`
/// results) and index keys by `CELMapKey`, under which `1`, `1u` and `1.0` are the same key as
/// CEL's heterogeneous equality says.
public enum CELValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([CELValue])
    case map(CELMap)
    /// Nanoseconds; CEL's `google.protobuf.Duration`.
    case duration(Int64)
    /// Nanoseconds since the Unix epoch; CEL's `google.protobuf.Timestamp`.
    case timestamp(Int64)
    /// A type value, e.g. the result of `type(1)` (`int`).
    case type(String)
    /// `optional<T>`: only what `optionalOldSelf` needs (`hasValue`, `value`, `orValue`).
    indirect case optional(CELValue?)
    /// A Kubernetes quantity (`quantity("1Gi")`).
    case quantity(Quantity)

    /// CEL's name of this value's type, as `type()` returns it.
    public var typeName: String {
        switch self {
        case .null: return "null_type"
        case .bool: return "bool"
        case .int: return "int"
        case .uint: return "uint"
        case .double: return "double"
        case .string: return "string"
        case .bytes: return "bytes"
        case .list: return "list"
        case .map: return "map"
        case .duration: return "google.protobuf.Duration"
        case .timestamp: return "google.protobuf.Timestamp"
        case .type: return "type"
        case .optional: return "optional_type"
        case .quantity: return "kubernetes.Quantity"
        }
    }
}

/// A map key normalised for lookup: numbers that are equal are the same key.
public enum CELMapKey: Hashable, Sendable {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)

    init?(_ v: CELValue) {
        switch v {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .uint(let u): self = u <= UInt64(Int64.max) ? .int(Int64(u)) : .uint(u)
        case .double(let d):
            guard d.rounded() == d, d >= -9.2e18, d <= 9.2e18 else { return nil }
            self = .int(Int64(d))
        case .string(let s): self = .string(s)
        default: return nil
        }
    }
}

/// An ordered CEL map.
public struct CELMap: Sendable {
    public private(set) var entries: [(key: CELValue, value: CELValue)] = []
    private var index: [CELMapKey: Int] = [:]

    public init() {}

    public var count: Int { entries.count }

    /// Adds an entry; false when the key is already present or cannot be a key.
    @discardableResult
    public mutating func insert(_ key: CELValue, _ value: CELValue) -> Bool {
        guard let k = CELMapKey(key), index[k] == nil else { return false }
        index[k] = entries.count
        entries.append((key, value))
        return true
    }

    public subscript(key: CELValue) -> CELValue? {
        guard let k = CELMapKey(key), let i = index[k] else { return nil }
        return entries[i].value
    }

    public subscript(field: String) -> CELValue? { self[.string(field)] }
}

extension CELValue {
    /// The CEL view of a JSON document: numbers stay ints when JSON wrote them as integers.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(CELValue.init(json:)))
        case .object(let o):
            var m = CELMap()
            for key in o.keys.sorted() { m.insert(.string(key), CELValue(json: o[key] ?? .null)) }
            self = .map(m)
        }
    }

    /// The JSON form of a result (for messages and audit annotations); nil for values JSON cannot hold.
    public var json: JSONValue? {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let l):
            var out: [JSONValue] = []
            for v in l { guard let j = v.json else { return nil }; out.append(j) }
            return .array(out)
        case .map(let m):
            var out: [String: JSONValue] = [:]
            for (k, v) in m.entries {
                guard case .string(let key) = k, let j = v.json else { return nil }
                out[key] = j
            }
            return .object(out)
        default: return nil
        }
    }
}
