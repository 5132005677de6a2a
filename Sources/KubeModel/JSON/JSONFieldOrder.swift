/// The order kube-apiserver writes an object's fields in: Go's `encoding/json` follows struct
/// declaration order, so TypeMeta (`kind`, `apiVersion`) comes first, then each type's fields
/// as declared, which is the order of their protobuf field numbers. Map keys, and fields the
/// schema does not know, follow in byte order (as Go sorts map keys).
public final class JSONFieldOrder: Sendable {
    /// One message's fields: their rank, and the message of each field's value.
    struct Layout: Sendable {
        var rank: [String: Int]
        /// A field holding a message, an array of them, or a map with message values.
        var child: [String: String]
        /// Fields that are maps (their keys are data, sorted).
        var maps: Set<String>
    }

    /// Messages whose JSON is free-form (embedded objects, managed-fields sets).
    static let opaque: Set<String> = ["k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"]

    /// Types whose Go declaration order differs from their protobuf numbering (fields added
    /// later got higher numbers but were declared higher up): these fields come first, in
    /// this order, then the rest by number.
    static let goOrder: [String: [String]] = [
        "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference": ["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"],
        "k8s.io.api.core.v1.ConfigMap": ["metadata", "immutable", "data", "binaryData"],
        "k8s.io.api.core.v1.Secret": ["metadata", "immutable", "data", "stringData", "type"],
        "k8s.io.api.core.v1.Container": [
            "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "resizePolicy", "restartPolicy",
            "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath",
            "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty",
        ],
    ]

    /// Go types start with TypeMeta and then metadata; for kinds without a schema entry.
    static let typeMetaOnly = Layout(rank: ["kind": -3, "apiVersion": -2, "metadata": -1], child: [:], maps: [])

    let layouts: [String: Layout]
    let schema: ProtobufSchema

    /// The order of the Kubernetes types of the generated protobuf schema.
    public static let kubernetes = JSONFieldOrder(schema: .kubernetes)

    init(schema: ProtobufSchema) {
        self.schema = schema
        var layouts: [String: Layout] = [:]
        for name in schema.messages.keys { layouts[name] = Self.layout(name, schema: schema) }
        self.layouts = layouts
    }

    /// The message an object with this `apiVersion` and `kind` is, if the schema has it.
    func message(of object: [String: JSONValue]) -> String? {
        guard let kind = object["kind"]?.stringValue, let apiVersion = object["apiVersion"]?.stringValue else { return nil }
        return schema.messageName(apiVersion: apiVersion, kind: kind)
    }

    private static func layout(_ name: String, schema: ProtobufSchema) -> Layout {
        var layout = Layout(rank: [:], child: [:], maps: [])
        var next = 0
        for field in goOrder[name] ?? [] {
            layout.rank[field] = next
            next += 1
        }
        func add(_ message: String, depth: Int) {
            guard depth < 8, let m = schema.messages[message] else { return }
            for number in m.fields.keys.sorted() {
                guard let f = m.fields[number] else { continue }
                if f.inline, case .message(let inner) = f.type {
                    add(inner, depth: depth + 1)
                    continue
                }
                if layout.rank[f.name] == nil {
                    layout.rank[f.name] = next
                    next += 1
                }
                if f.mapKey != nil { layout.maps.insert(f.name) }
                if case .message(var inner) = f.type {
                    // A Go slice type (`[]string` wrapped as a message): its JSON is its items.
                    if let list = schema.messages[inner], list.isList, let items = list.fields.values.first,
                       case .message(let element) = items.type {
                        inner = element
                    }
                    layout.child[f.name] = inner
                }
            }
        }
        add(name, depth: 0)
        // TypeMeta is inline in every top-level type, ahead of its own fields.
        if layout.rank["kind"] == nil && layout.rank["apiVersion"] == nil {
            layout.rank["kind"] = -2
            layout.rank["apiVersion"] = -1
        }
        return layout
    }
}

extension JSONWriter {
    /// Compact encoding in Kubernetes' field order (`JSONFieldOrder`), as kube-apiserver writes
    /// responses. An object whose `kind`/`apiVersion` the schema does not know is written
    /// with sorted keys, as `bytes(_:)` does.
    public static func kubernetesBytes(_ value: JSONValue, order: JSONFieldOrder = .kubernetes) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeKubernetes(value, &out, message: nil, order: order)
        return out
    }

    /// A watch event line's object: `{"type":…,"object":…}` in that order, as Go's WatchEvent.
    public static func kubernetesWatchEvent(type: String, object: JSONValue, order: JSONFieldOrder = .kubernetes) -> [UInt8] {
        var out: [UInt8] = Array(#"{"type":"#.utf8)
        writeString(type, &out)
        out.append(contentsOf: Array(#","object":"#.utf8))
        writeKubernetes(object, &out, message: nil, order: order)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The same line around an object already serialized (by `kubernetesBytes`).
    public static func watchEvent(type: String, serializedObject: [UInt8]) -> [UInt8] {
        var out: [UInt8] = Array(#"{"type":"#.utf8)
        out.reserveCapacity(serializedObject.count + 32)
        writeString(type, &out)
        out.append(contentsOf: Array(#","object":"#.utf8))
        out.append(contentsOf: serializedObject)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func writeKubernetes(_ value: JSONValue, _ out: inout [UInt8], message: String?, order: JSONFieldOrder) {
        switch value {
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeKubernetes(v, &out, message: message, order: order)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            // The parent field says what it is (an OwnerReference's kind is not its own);
            // a top-level or embedded raw object (RawExtension) names itself.
            let name = message.flatMap { JSONFieldOrder.opaque.contains($0) ? nil : $0 } ?? order.message(of: o)
            let layout: JSONFieldOrder.Layout
            if let name, let known = order.layouts[name] {
                layout = known
            } else if o["kind"]?.stringValue != nil && o["apiVersion"]?.stringValue != nil {
                layout = JSONFieldOrder.typeMetaOnly  // a kind the schema lacks (Table): TypeMeta, metadata first
            } else {
                writeObject(o, &out, order: order) { _ in nil }
                return
            }
            // Ranks looked up once per key; unknown fields after the known ones, in byte order.
            let keyed = o.map { (rank: layout.rank[$0.key] ?? Int.max, key: $0.key, value: $0.value) }
                .sorted { $0.rank != $1.rank ? $0.rank < $1.rank : byteOrder($0.key, $1.key) }
            out.append(UInt8(ascii: "{"))
            for (i, (_, key, v)) in keyed.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, &out)
                out.append(UInt8(ascii: ":"))
                let child = layout.child[key]
                if layout.maps.contains(key), case .object(let entries) = v {
                    writeObject(entries, &out, order: order) { _ in child }
                } else {
                    writeKubernetes(v, &out, message: child, order: order)
                }
            }
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out)
        }
    }

    /// Keys in byte order; each value of the message `childOf(key)` says (nil: unknown).
    private static func writeObject(_ o: [String: JSONValue], _ out: inout [UInt8], order: JSONFieldOrder,
                                    childOf: (String) -> String?) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (key, v) in o.sorted(by: { byteOrder($0.key, $1.key) }) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            writeString(key, &out)
            out.append(UInt8(ascii: ":"))
            writeKubernetes(v, &out, message: childOf(key), order: order)
        }
        out.append(UInt8(ascii: "}"))
    }
}
