/// What `SchemaValidator.prune` found in an object.
public struct SchemaCheckResult: Sendable, Equatable {
    /// Paths of dropped fields as kube-apiserver prints them, e.g. `spec.foo` or
    /// `spec.template.spec.containers[0].bogus`, depth-first in key order.
    public var unknownFields: [String]
    /// Decode errors worded like kube-apiserver's, e.g. `json: cannot unmarshal string into Go
    /// struct field DeploymentSpec.spec.replicas of type int32`. Kubernetes answers 400 BadRequest
    /// with `<Kind> in version "<v>" cannot be handled as a <Kind>: <first error>`.
    public var typeErrors: [String]

    public init(unknownFields: [String] = [], typeErrors: [String] = []) {
        self.unknownFields = unknownFields
        self.typeErrors = typeErrors
    }

    /// True when nothing was dropped and every value had the right type.
    public var isClean: Bool { unknownFields.isEmpty && typeErrors.isEmpty }

    /// `unknown field "spec.foo"` per dropped field: the text of fieldValidation warnings, and of
    /// strict errors after `strict decoding error: ` (joined with `, `).
    public var unknownFieldMessages: [String] { unknownFields.map { "unknown field \"\($0)\"" } }
}

/// Checks an object against its schema the way decoding into Kubernetes' Go structs does.
public enum SchemaValidator {
    /// Walks `object` as the definition `typeName`: drops fields the schema does not know and
    /// nulls (Go decodes them to zero values that are then omitted), normalises whole-number
    /// doubles in integer fields, and reports unknown fields and type mismatches.
    /// Unknown `typeName`s leave the object untouched.
    public static func prune(_ object: inout JSONValue, typeName: String, schema: Schema = .kubernetes) -> SchemaCheckResult {
        guard let root = schema.definition(typeName) else { return SchemaCheckResult() }
        var walker = SchemaWalker(schema: schema)
        walker.walk(&object, root, refName: typeName, topLevel: true)
        return walker.result
    }
}

/// Where Go's decoder is, for its error text: the struct whose field is being decoded and the
/// JSON field names from the root (Go keeps neither array indices nor map keys here).
struct GoContext {
    var structName: String?
    var fields: [String]

    /// `json: cannot unmarshal <value> into Go struct field <S>.<path> of type <T>`.
    func typeError(_ value: String, _ goType: String) -> String {
        if let s = structName, !fields.isEmpty {
            return "json: cannot unmarshal \(value) into Go struct field \(s).\(fields.joined(separator: ".")) of type \(goType)"
        }
        return "json: cannot unmarshal \(value) into Go value of type \(goType)"
    }
}

struct SchemaWalker {
    let schema: Schema
    var result = SchemaCheckResult()
    /// Where the walk is: kept as stacks and spelled out only for a finding, since a clean
    /// object (nearly every write) needs no text at all.
    private enum Step { case key(String), index(Int) }
    private var steps: [Step] = []
    private var go = GoContext(structName: nil, fields: [])

    init(schema: Schema) { self.schema = schema }

    /// The current position as kube-apiserver prints it: `spec.containers[0].bogus`.
    private var path: String {
        var out = ""
        for step in steps {
            switch step {
            case .key(let k): out += out.isEmpty ? k : "." + k
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }

    /// Resolves refs, remembering the last definition name (Go names types after it).
    func resolveNamed(_ node: SchemaNode, _ name: String?) -> (SchemaNode, String?) {
        guard let ref = node.ref else { return (node, name) }
        return (schema.resolve(node), ref)
    }

    mutating func walk(_ value: inout JSONValue, _ node: SchemaNode, refName: String?, topLevel: Bool = false) {
        let (n, name) = resolveNamed(node, node.ref == nil ? refName : nil)
        if value.isNull || n.acceptsAnything { return }
        switch n.type {
        case "int-or-string":
            if case .string = value { return }
            checkInteger(&value, format: "int32")
        case "quantity":
            if let msg = GoValueChecks.quantityError(value) { result.typeErrors.append(msg) }
        case "string":
            guard case .string(let s) = value else {
                result.typeErrors.append(go.typeError(Self.kindName(value), n.format == "byte" ? "[]uint8" : "string"))
                return
            }
            if n.format == "byte", let at = GoValueChecks.base64ErrorOffset(s) {
                result.typeErrors.append("illegal base64 data at input byte \(at)")
            } else if n.format == "date-time", let msg = GoValueChecks.timeError(s) {
                result.typeErrors.append(msg)
            }
        case "integer":
            checkInteger(&value, format: n.format ?? "int64")
        case "number":
            if value.doubleValue == nil { result.typeErrors.append(go.typeError(Self.kindName(value), "float64")) }
        case "boolean":
            if value.boolValue == nil { result.typeErrors.append(go.typeError(Self.kindName(value), "bool")) }
        case "array":
            walkArray(&value, n)
        default:
            if n.isStruct || n.type == "object" {
                walkObject(&value, n, name: name, topLevel: topLevel)
            } else if n.items != nil {
                walkArray(&value, n)
            }
        }
    }

    private mutating func checkInteger(_ value: inout JSONValue, format: String) {
        let bounds: ClosedRange<Int64> = format == "int32" ? Int64(Int32.min)...Int64(Int32.max) : Int64.min...Int64.max
        switch value {
        case .int(let i) where bounds.contains(i):
            return
        case .int(let i):
            result.typeErrors.append(go.typeError("number \(i)", format))
        case .double(let d):
            // Whole doubles are what a merge of an int yields; keep them as ints like Go's re-encode.
            if let i = value.intValue, bounds.contains(i) {
                value = .int(i)
            } else {
                result.typeErrors.append(go.typeError("number \(Self.formatNumber(d))", format))
            }
        default:
            result.typeErrors.append(go.typeError(Self.kindName(value), format))
        }
    }

    private mutating func walkArray(_ value: inout JSONValue, _ n: SchemaNode) {
        guard case .array(var arr) = value else {
            result.typeErrors.append(go.typeError(Self.kindName(value), goType(n)))
            return
        }
        guard let items = n.items else { return }
        // Leave `arr` as the only reference so element edits happen in place, not on a copy.
        value = .null
        for i in arr.indices {
            if arr[i].isNull {
                if let z = zeroValue(items) { arr[i] = z }
                continue
            }
            steps.append(.index(i))
            walk(&arr[i], items, refName: nil)
            steps.removeLast()
        }
        value = .array(arr)
    }

    private mutating func walkObject(_ value: inout JSONValue, _ n: SchemaNode, name: String?, topLevel: Bool) {
        guard case .object(var obj) = value else {
            result.typeErrors.append(go.typeError(Self.kindName(value), goType(n, name: name)))
            return
        }
        let structName = name.map(Schema.shortName)
        value = .null  // `obj` is now the only reference: the edits below need no copy
        for key in obj.keys.sorted() {
            guard let isNull = obj[key]?.isNull else { continue }
            if let prop = n.properties[key] {
                if isNull {
                    obj.removeValue(forKey: key)
                } else {
                    // Go's context names this struct and adds the field; a map value below adds nothing.
                    let outer = go.structName
                    go.structName = structName ?? outer
                    go.fields.append(key)
                    steps.append(.key(key))
                    walk(&obj[key, default: .null], prop, refName: nil)
                    steps.removeLast()
                    go.fields.removeLast()
                    go.structName = outer
                }
            } else if let valueSchema = n.additionalProperties, n.properties.isEmpty {
                if isNull {
                    obj[key] = zeroValue(valueSchema) ?? .null
                } else {
                    steps.append(.key(key))
                    walk(&obj[key, default: .null], valueSchema, refName: nil)
                    steps.removeLast()
                }
            } else if topLevel && (key == "apiVersion" || key == "kind") {
                continue  // TypeMeta: every served object may carry it
            } else if !n.preserveUnknownFields {
                steps.append(.key(key))
                result.unknownFields.append(path)
                steps.removeLast()
                obj.removeValue(forKey: key)
            }
        }
        value = .object(obj)
    }

    /// What Go stores for a `null` array element or map value: the element type's zero value,
    /// or nil where that zero value encodes back as `null` (pointers, slices, times).
    func zeroValue(_ node: SchemaNode) -> JSONValue? {
        let n = schema.resolve(node)
        switch n.type {
        case "string": return n.format == nil ? .string("") : nil
        case "integer", "number": return .int(0)
        case "boolean": return .bool(false)
        case "int-or-string": return .int(0)
        case "quantity": return .string("0")
        default: return n.isStruct ? .object([:]) : nil
        }
    }

    /// Go's spelling of a node's type: `int32`, `[]v1.Container`, `map[string]string`, `v1.PodSpec`.
    func goType(_ node: SchemaNode, name: String? = nil) -> String {
        if let ref = node.ref {
            let target = schema.resolve(node)
            switch target.type {
            case "string": return "string"
            case "int-or-string": return "intstr.IntOrString"
            case "quantity": return "resource.Quantity"
            default: return Schema.goTypeName(ref)
            }
        }
        switch node.type {
        case "string": return node.format == "byte" ? "[]uint8" : "string"
        case "integer": return node.format ?? "int64"
        case "number": return "float64"
        case "boolean": return "bool"
        case "array": return "[]" + (node.items.map { goType($0) } ?? "interface {}")
        default:
            if let name { return Schema.goTypeName(name) }
            if node.isMap, let v = node.additionalProperties { return "map[string]" + goType(v) }
            return "map[string]interface {}"
        }
    }

    /// Go's word for a JSON value in decode errors.
    static func kindName(_ v: JSONValue) -> String {
        switch v {
        case .string: return "string"
        case .int, .double: return "number"
        case .bool: return "bool"
        case .array: return "array"
        case .object: return "object"
        case .null: return "null"
        }
    }

    static func formatNumber(_ d: Double) -> String {
        if d.rounded() == d, abs(d) < 9.0e18 { return String(Int64(d)) }
        return "\(d)"
    }
}
