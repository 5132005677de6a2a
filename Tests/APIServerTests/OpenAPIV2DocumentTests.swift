import Testing

@testable import APIServer
@testable import KubeModel

@Suite struct OpenAPIV2DocumentTests {
    static let definitions: [ResourceDefinition] = [
        ResourceDefinition(
            group: "", versions: ["v1"], kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"], namespaced: true,
            schemaNames: ["v1": "io.k8s.api.core.v1.ConfigMap"]),
        ResourceDefinition(
            group: "apps", versions: ["v1"], kind: "Deployment", plural: "deployments", shortNames: ["deploy"],
            namespaced: true, categories: ["all"], subresources: [.status, .scale],
            schemaNames: ["v1": "io.k8s.api.apps.v1.Deployment"]),
        ResourceDefinition(
            group: "stable.example.com", versions: ["v1"], kind: "CronTab", plural: "crontabs", namespaced: true,
            schemaNames: [:]),
    ]

    let doc = OpenAPIV2Document(definitions: Self.definitions)

    /// Every `$ref` under `value`, anywhere.
    func refs(_ value: JSONValue) -> [String] {
        switch value {
        case .object(let o):
            var out: [String] = o["$ref"]?.stringValue.map { [$0] } ?? []
            for (k, v) in o where k != "$ref" { out += refs(v) }
            return out
        case .array(let a): return a.flatMap(refs)
        default: return []
        }
    }

    @Test func jsonHasGVKAndResolvableRefs() throws {
        let json = doc.json()
        #expect(json["swagger"] == "2.0")
        let defs = try #require(json["definitions"]?.objectValue)
        let deployment = try #require(defs["io.k8s.api.apps.v1.Deployment"])
        let gvk = deployment["x-kubernetes-group-version-kind"]?.arrayValue ?? []
        #expect(gvk.contains(["group": "apps", "kind": "Deployment", "version": "v1"]))
        #expect(deployment["properties"]?["spec"]?["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec")
        for r in refs(json) {
            #expect(r.hasPrefix("#/definitions/"))
            #expect(defs[String(r.dropFirst("#/definitions/".count))] != nil, "dangling \(r)")
        }
        // Schemaless kinds are still published with their GVK.
        #expect(defs["com.example.stable.v1.CronTab"]?["x-kubernetes-group-version-kind"] != nil)
        let ios = defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
        #expect(ios?["type"] == "string" && ios?["format"] == "int-or-string")
    }

    /// Shapes kube-openapi's v2 parser rejects: arrays without items, types on refs.
    @Test func schemasParseUnderKubeOpenAPIRules() throws {
        let defs = try #require(doc.json()["definitions"]?.objectValue)
        func check(_ s: JSONValue, _ path: String) {
            guard let o = s.objectValue else { return }
            if o["$ref"] != nil { #expect(o["type"] == nil && o["properties"] == nil, "\(path)") }
            if o["type"] == "array" { #expect(o["items"]?.objectValue != nil, "\(path)") }
            for (k, v) in o["properties"]?.objectValue ?? [:] { check(v, path + "." + k) }
            if let i = o["items"] { check(i, path + "[]") }
            if let a = o["additionalProperties"] { check(a, path + "{}") }
        }
        for (name, s) in defs { check(s, name) }
    }

    @Test func protobufParsesBack() throws {
        let bytes = doc.protobuf()
        let top = try ProtoReader.fields(bytes[...])
        #expect(top.first { $0.number == 1 }.map { String(decoding: $0.bytes, as: UTF8.self) } == "2.0")
        let info = try #require(top.first { $0.number == 2 })
        #expect(try ProtoReader.fields(info.bytes).contains { $0.number == 1 && String(decoding: $0.bytes, as: UTF8.self) == "Caravel" })
        let definitions = try #require(top.first { $0.number == 9 })
        var names: [String: ArraySlice<UInt8>] = [:]
        for named in try ProtoReader.fields(definitions.bytes) where named.number == 1 {
            let parts = try ProtoReader.fields(named.bytes)
            let name = parts.first { $0.number == 1 }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
            names[name] = parts.first { $0.number == 2 }?.bytes
        }
        #expect(names.count == doc.json()["definitions"]?.objectValue?.count)
        let deployment = try #require(names["io.k8s.api.apps.v1.Deployment"])
        // Schema.vendor_extension (31) carries the GVK as YAML in Any.yaml (2).
        let ext = try ProtoReader.fields(deployment).filter { $0.number == 31 }
        let yaml = try ext.compactMap { e -> String? in
            let f = try ProtoReader.fields(e.bytes)
            guard f.contains(where: { $0.number == 1 && String(decoding: $0.bytes, as: UTF8.self) == "x-kubernetes-group-version-kind" }),
                let any = f.first(where: { $0.number == 2 })
            else { return nil }
            return try ProtoReader.fields(any.bytes).first { $0.number == 2 }.map { String(decoding: $0.bytes, as: UTF8.self) }
        }
        #expect(yaml.first?.contains("\"Deployment\"") == true)
    }
}

/// Test-only protobuf reader: splits a message into its fields (varint and length-delimited
/// payloads as raw bytes), enough to walk the document's nesting.
enum ProtoReader {
    struct Field {
        var number: Int
        var bytes: ArraySlice<UInt8>
    }

    struct Malformed: Error {}

    static func varint(_ b: ArraySlice<UInt8>, _ i: inout Int) throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard i < b.endIndex, shift < 64 else { throw Malformed() }
            let byte = b[i]
            i += 1
            v |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return v }
            shift += 7
        }
    }

    static func fields(_ b: ArraySlice<UInt8>) throws -> [Field] {
        var out: [Field] = []
        var i = b.startIndex
        while i < b.endIndex {
            let key = try varint(b, &i)
            let number = Int(key >> 3)
            switch key & 7 {
            case 0:
                let start = i
                _ = try varint(b, &i)
                out.append(Field(number: number, bytes: b[start..<i]))
            case 1:
                guard i + 8 <= b.endIndex else { throw Malformed() }
                out.append(Field(number: number, bytes: b[i..<i + 8]))
                i += 8
            case 2:
                let n = Int(try varint(b, &i))
                guard n >= 0, i + n <= b.endIndex else { throw Malformed() }
                out.append(Field(number: number, bytes: b[i..<i + n]))
                i += n
            default: throw Malformed()
            }
        }
        return out
    }
}
