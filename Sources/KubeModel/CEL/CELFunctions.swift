/// The function library: dispatches a call by name and receiver to the standard functions,
/// CEL's string extensions and Kubernetes' list, regex and quantity libraries.
enum CELFunctions {
    /// Global functions: name to accepted argument counts.
    static let globals: [String: Set<Int>] = [
        "size": [1], "int": [1], "uint": [1], "double": [1], "string": [1], "bool": [1], "bytes": [1],
        "type": [1], "dyn": [1], "duration": [1], "timestamp": [1], "matches": [2], "quantity": [1],
        "isQuantity": [1],
    ]

    /// Receiver-style functions: name to accepted argument counts (the receiver not counted).
    static let methods: [String: Set<Int>] = [
        "size": [0], "contains": [1], "startsWith": [1], "endsWith": [1], "matches": [1], "lowerAscii": [0],
        "upperAscii": [0], "trim": [0], "split": [1, 2], "join": [0, 1], "indexOf": [1, 2], "lastIndexOf": [1, 2],
        "replace": [2, 3], "substring": [1, 2], "charAt": [1], "find": [1], "findAll": [1, 2],
        "isSorted": [0], "sum": [0], "min": [0], "max": [0],
        "getFullYear": [0, 1], "getMonth": [0, 1], "getDayOfMonth": [0, 1], "getDate": [0, 1], "getDayOfWeek": [0, 1],
        "getDayOfYear": [0, 1], "getHours": [0, 1], "getMinutes": [0, 1], "getSeconds": [0, 1],
        "getMilliseconds": [0, 1],
        "hasValue": [0], "value": [0], "orValue": [1],
        "isGreaterThan": [1], "isLessThan": [1], "compareTo": [1], "asInteger": [0], "asApproximateFloat": [0],
        "sign": [0], "isInteger": [0], "add": [1], "sub": [1],
    ]

    /// Extra steps a call costs beyond its node: proportional to the size of what it built.
    static func cost(of result: CELValue) -> Int {
        switch result {
        case .string(let s): return s.utf8.count / 64
        case .list(let l): return l.count / 8
        default: return 0
        }
    }

    static func call(_ name: String, receiver: CELValue?, args: [CELValue]) throws(CELError) -> CELValue {
        if let receiver { return try method(name, receiver, args) }
        guard args.count == 1 || name == "matches" else { throw CELError.noOverload(name, args) }
        let a = args[0]
        switch name {
        case "size": return try method("size", a, [])
        case "matches": return try CELStringFunctions.call("matches", args[0], [args[1]])
        case "type": return .type(a.typeName)
        case "dyn": return a
        case "duration", "timestamp": return try CELTime.construct(name, a)
        case "quantity", "isQuantity": return try CELQuantityFunctions.construct(name, a)
        default: return try CELConversions.convert(name, a)
        }
    }

    private static func method(_ name: String, _ receiver: CELValue, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch receiver {
        case .string:
            return try CELStringFunctions.call(name, receiver, args)
        case .list(let l):
            return try CELListFunctions.call(name, l, args)
        case .bytes(let b) where name == "size" && args.isEmpty:
            return .int(Int64(b.count))
        case .map(let m) where name == "size" && args.isEmpty:
            return .int(Int64(m.count))
        case .timestamp, .duration:
            return try CELTime.accessor(name, receiver, args)
        case .optional(let inner):
            switch (name, args.count) {
            case ("hasValue", 0): return .bool(inner != nil)
            case ("value", 0):
                guard let inner else { throw CELError.eval("optional.none() dereference") }
                return inner
            case ("orValue", 1): return inner ?? args[0]
            default: throw CELError.noOverload(name, [receiver] + args)
            }
        case .quantity:
            return try CELQuantityFunctions.call(name, receiver, args)
        default:
            throw CELError.noOverload(name, [receiver] + args)
        }
    }
}
