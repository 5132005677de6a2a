import Foundation

/// Decodes Kubernetes protobuf (`application/vnd.kubernetes.protobuf`), which kubectl's typed
/// clients send as request bodies, into the JSON object model.
///
/// Framing: the magic `k8s\0`, then a `runtime.Unknown` message whose `typeMeta` names the
/// apiVersion and kind and whose `raw` holds the object's own message. Messages are decoded with
/// the generated table in `ProtobufSchemaData`.
public enum KubeProtobuf {
    /// The four bytes that start every Kubernetes protobuf document.
    public static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]
    /// Deepest message nesting accepted; real objects nest about 15 levels.
    public static let maxDepth = 100

    /// Decodes one framed object and sets its `apiVersion` and `kind`.
    public static func decode(_ bytes: some Collection<UInt8>) throws(KubeProtobufError) -> JSONValue {
        try ProtobufDecoder(schema: .kubernetes).decodeDocument(Array(bytes), depth: 0)
    }
}

/// Turns messages into JSON following Go's semantics: a decoded Go struct cannot tell a zero
/// non-pointer field from an unset one, so zero scalars of non-pointer fields are dropped.
struct ProtobufDecoder {
    let schema: ProtobufSchema

    private static let runtimePackage = "k8s.io.apimachinery.pkg.runtime"

    func decodeDocument(_ bytes: [UInt8], depth: Int) throws(KubeProtobufError) -> JSONValue {
        guard bytes.count >= 4, Array(bytes.prefix(4)) == KubeProtobuf.magic else {
            throw KubeProtobufError("protobuf body does not start with the Kubernetes magic number")
        }
        var r = ProtobufReader(bytes)
        _ = try r.readFixed32()  // the magic
        var apiVersion = "", kind = "", encoding = "", contentType = ""
        var raw: Range<Int>? = nil
        while !r.isAtEnd {
            let (field, wire) = try r.readTag()
            switch (field, wire) {
            case (1, .lengthDelimited):
                var tm = r.reader(for: try r.readLengthDelimited())
                while !tm.isAtEnd {
                    let (f, w) = try tm.readTag()
                    switch (f, w) {
                    case (1, .lengthDelimited): apiVersion = string(tm, try tm.readLengthDelimited())
                    case (2, .lengthDelimited): kind = string(tm, try tm.readLengthDelimited())
                    default: try tm.skip(w)
                    }
                }
            case (2, .lengthDelimited): raw = try r.readLengthDelimited()
            case (3, .lengthDelimited): encoding = string(r, try r.readLengthDelimited())
            case (4, .lengthDelimited): contentType = string(r, try r.readLengthDelimited())
            default: try r.skip(wire)
            }
        }
        guard encoding.isEmpty else { throw KubeProtobufError("unsupported protobuf content encoding \"\(encoding)\"") }
        let body = raw ?? 0..<0
        var object: JSONValue
        if contentType == "application/json" {
            // Unknown may wrap JSON; Kubernetes itself does this for some embedded objects.
            do { object = try JSONParser.parse(r.slice(body), maxDepth: KubeProtobuf.maxDepth) } catch {
                throw KubeProtobufError("invalid JSON inside protobuf envelope: \(error.description)")
            }
        } else {
            guard contentType.isEmpty || contentType == "application/vnd.kubernetes.protobuf" else {
                throw KubeProtobufError("unsupported protobuf content type \"\(contentType)\"")
            }
            guard let name = schema.messageName(apiVersion: apiVersion, kind: kind) else {
                throw KubeProtobufError("no protobuf type is known for apiVersion \"\(apiVersion)\", kind \"\(kind)\"")
            }
            object = try decodeMessage(name, r.reader(for: body), depth: depth + 1, dropZero: false) ?? .object([:])
        }
        guard object.objectValue != nil else { throw KubeProtobufError("protobuf body of kind \"\(kind)\" is not an object") }
        if !apiVersion.isEmpty { object["apiVersion"] = .string(apiVersion) }
        if !kind.isEmpty { object["kind"] = .string(kind) }
        return object
    }

    /// Decodes a message of type `name`. Returns nil for special types holding Go's zero value
    /// (an unset Time, an empty RawExtension) when `dropZero`, i.e. the JSON field is absent.
    func decodeMessage(_ name: String, _ reader: ProtobufReader, depth: Int, dropZero: Bool) throws(KubeProtobufError) -> JSONValue? {
        guard depth <= KubeProtobuf.maxDepth else { throw KubeProtobufError("protobuf message nesting exceeds \(KubeProtobuf.maxDepth) levels") }
        if let special = try decodeSpecial(name, reader, depth: depth, dropZero: dropZero) { return special.value }
        guard let message = schema.messages[name] else { throw KubeProtobufError("unknown protobuf message \(name)") }
        var r = reader
        var out: [String: JSONValue] = [:]
        var lists: [String: [JSONValue]] = [:]
        var maps: [String: [String: JSONValue]] = [:]
        while !r.isAtEnd {
            let (number, wire) = try r.readTag()
            guard let field = message.fields[number] else {
                try r.skip(wire)
                continue
            }
            if let keyType = field.mapKey {
                let (k, v) = try decodeMapEntry(&r, wire: wire, key: keyType, value: field.type, depth: depth)
                maps[field.name, default: [:]][k] = v
            } else if field.repeated {
                try decodeRepeated(&r, wire: wire, field: field, depth: depth, into: &lists[field.name, default: []])
            } else {
                let value = try decodeValue(&r, wire: wire, type: field.type, depth: depth, dropZero: !field.pointer)
                if field.inline {
                    guard case .object(let inner)? = value else { throw KubeProtobufError("inline field \(field.name) is not an object") }
                    out.merge(inner) { _, new in new }
                } else if let value {
                    // A repeated singular message merges into the earlier one, as protobuf specifies.
                    if case .object(let old)? = out[field.name], case .object(let new) = value {
                        out[field.name] = .object(old.merging(new) { _, n in n })
                    } else {
                        out[field.name] = value
                    }
                } else {
                    out.removeValue(forKey: field.name)
                }
            }
        }
        for (k, v) in lists { out[k] = .array(v) }
        for (k, v) in maps { out[k] = .object(v) }
        if message.isList { return out["items"] ?? .array([]) }
        return .object(out)
    }

    /// One value of a non-map field. Nil means "absent in JSON".
    private func decodeValue(_ r: inout ProtobufReader, wire: ProtobufWireType, type: ProtobufValueType, depth: Int, dropZero: Bool) throws(KubeProtobufError) -> JSONValue? {
        switch type {
        case .message(let name):
            guard wire == .lengthDelimited else { throw KubeProtobufError("wrong wire type \(wire.rawValue) for message \(name)") }
            return try decodeMessage(name, r.reader(for: try r.readLengthDelimited()), depth: depth + 1, dropZero: dropZero)
        case .scalar(let s):
            let v = try decodeScalar(&r, wire: wire, type: s)
            return Self.value(v, absentIf: dropZero && Self.isZero(v))
        }
    }

    private func decodeRepeated(_ r: inout ProtobufReader, wire: ProtobufWireType, field: ProtobufField, depth: Int, into list: inout [JSONValue]) throws(KubeProtobufError) {
        if case .scalar(let s) = field.type, wire == .lengthDelimited, s != .string, s != .bytes {
            // Packed encoding: proto2 writers may use it, and decoders must accept both forms.
            var packed = r.reader(for: try r.readLengthDelimited())
            let elementWire: ProtobufWireType = Self.wireType(of: s)
            while !packed.isAtEnd { list.append(try decodeScalar(&packed, wire: elementWire, type: s)) }
            return
        }
        list.append(try decodeValue(&r, wire: wire, type: field.type, depth: depth, dropZero: false) ?? .null)
    }

    /// A map entry is a message {key = 1, value = 2}; either may be missing and means its zero value.
    private func decodeMapEntry(_ r: inout ProtobufReader, wire: ProtobufWireType, key: ProtobufScalar, value: ProtobufValueType, depth: Int) throws(KubeProtobufError) -> (String, JSONValue) {
        guard wire == .lengthDelimited else { throw KubeProtobufError("wrong wire type \(wire.rawValue) for a map entry") }
        guard depth + 1 <= KubeProtobuf.maxDepth else { throw KubeProtobufError("protobuf message nesting exceeds \(KubeProtobuf.maxDepth) levels") }
        var entry = r.reader(for: try r.readLengthDelimited())
        var k: JSONValue?
        var v: JSONValue?
        while !entry.isAtEnd {
            let (f, w) = try entry.readTag()
            switch f {
            case 1: k = try decodeScalar(&entry, wire: w, type: key)
            case 2: v = try decodeValue(&entry, wire: w, type: value, depth: depth + 1, dropZero: false) ?? .null
            default: try entry.skip(w)
            }
        }
        if v == nil {
            switch value {
            case .scalar(let s): v = Self.zero(s)
            case .message(let name): v = try decodeMessage(name, entry.reader(for: 0..<0), depth: depth + 2, dropZero: false) ?? .null
            }
        }
        let keyString: String
        switch k ?? Self.zero(key) {
        case .string(let s): keyString = s
        case .int(let i): keyString = String(i)
        case .bool(let b): keyString = b ? "true" : "false"
        case .double(let d): keyString = String(d)
        default: keyString = ""
        }
        return (keyString, v ?? .null)
    }

    func decodeScalar(_ r: inout ProtobufReader, wire: ProtobufWireType, type: ProtobufScalar) throws(KubeProtobufError) -> JSONValue {
        let expected = Self.wireType(of: type)
        guard wire == expected else { throw KubeProtobufError("wrong wire type \(wire.rawValue) for a \(type.rawValue) field") }
        switch type {
        case .string: return .string(string(r, try r.readLengthDelimited()))
        case .bytes: return .string(Data(r.slice(try r.readLengthDelimited())).base64EncodedString())
        case .bool: return .bool(try r.readVarint() != 0)
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: try r.readVarint())))
        case .int64: return .int(Int64(bitPattern: try r.readVarint()))
        case .uint32: return .int(Int64(UInt32(truncatingIfNeeded: try r.readVarint())))
        case .uint64: return Self.unsigned(try r.readVarint())
        case .sint32, .sint64:
            let u = try r.readVarint()
            let v = Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
            return .int(type == .sint32 ? Int64(Int32(truncatingIfNeeded: v)) : v)
        case .fixed32: return .int(Int64(try r.readFixed32()))
        case .sfixed32: return .int(Int64(Int32(bitPattern: try r.readFixed32())))
        case .float: return .double(Double(Float(bitPattern: try r.readFixed32())))
        case .fixed64: return Self.unsigned(try r.readFixed64())
        case .sfixed64: return .int(Int64(bitPattern: try r.readFixed64()))
        case .double: return .double(Double(bitPattern: try r.readFixed64()))
        }
    }

    func string(_ r: ProtobufReader, _ range: Range<Int>) -> String {
        String(decoding: r.slice(range), as: UTF8.self)
    }

    private static func unsigned(_ u: UInt64) -> JSONValue {
        u <= UInt64(Int64.max) ? .int(Int64(u)) : .double(Double(u))
    }

    static func wireType(of s: ProtobufScalar) -> ProtobufWireType {
        switch s {
        case .string, .bytes: return .lengthDelimited
        case .fixed32, .sfixed32, .float: return .fixed32
        case .fixed64, .sfixed64, .double: return .fixed64
        default: return .varint
        }
    }

    /// `value`, or no value (the field is absent in JSON) when `absent`.
    static func value(_ value: JSONValue, absentIf absent: Bool) -> JSONValue? {
        absent ? nil : value
    }

    static func zero(_ s: ProtobufScalar) -> JSONValue {
        switch s {
        case .string, .bytes: return .string("")
        case .bool: return .bool(false)
        case .float, .double: return .double(0)
        default: return .int(0)
        }
    }

    static func isZero(_ v: JSONValue) -> Bool {
        switch v {
        case .string(let s): return s.isEmpty
        case .int(let i): return i == 0
        case .double(let d): return d == 0
        case .bool(let b): return !b
        default: return false
        }
    }
}
