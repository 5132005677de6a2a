import Foundation
import KubeModel

/// core/v1 Secret: `stringData` folded into base64 `data`, type-specific required keys,
/// immutable `type`, and the `immutable: true` lock.
public struct SecretStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Secret", plural: "secrets", namespaced: true,
        schemaNames: ["v1": "io.k8s.api.core.v1.Secret"])

    /// Largest Secret/ConfigMap payload Kubernetes accepts (1 MiB).
    public static let maxSize = 1024 * 1024

    /// `stringData` is write-only: its entries override `data` (base64-encoded) and it is
    /// never stored, as Kubernetes' v1 conversion does.
    public func applyDefaults(to object: inout JSONValue) {
        K.fill(&object, "type", "Opaque")
        if object["type"]?.stringValue == "" { object["type"] = "Opaque" }
        Self.foldStringData(&object)
    }

    public func prepareForCreate(_ object: inout JSONValue) { Self.foldStringData(&object) }
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) { Self.foldStringData(&object) }

    static func foldStringData(_ object: inout JSONValue) {
        guard let sd = object["stringData"] else { return }
        if let m = sd.objectValue, !m.isEmpty {
            var data = object["data"]?.objectValue ?? [:]
            for (k, v) in m { data[k] = .string(K.base64(v.stringValue ?? "")) }
            object["data"] = .object(data)
        }
        object["stringData"] = nil
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let data = object["data"]?.objectValue ?? [:]
        var total = 0
        for key in data.keys.sorted() {
            let p = K.key("data", key)
            for m in NameValidation.isConfigMapKey(key) { errs.append(.invalid(p, FieldError.show(.string(key)), m)) }
            guard let s = data[key]?.stringValue, let bytes = Data(base64Encoded: s) else {
                errs.append(.invalid(p, "<secret contents redacted>", "illegal base64 data"))
                continue
            }
            total += bytes.count
        }
        if total > Self.maxSize { errs.append(FieldError(.tooLong, "data", "must have at most \(Self.maxSize) bytes")) }

        let type = K.string(object["type"])
        func require(_ key: String) {
            if data[key] == nil { errs.append(.required(K.key("data", key), "")) }
        }
        func requireJSON(_ key: String) {
            require(key)
            if let s = data[key]?.stringValue, let d = Data(base64Encoded: s), (try? JSONParser.parse(Array(d))) == nil {
                errs.append(.invalid(K.key("data", key), "<secret contents redacted>", "invalid JSON"))
            }
        }
        switch type {
        case "kubernetes.io/service-account-token":
            if K.string(object[path: ["metadata", "annotations", "kubernetes.io/service-account.name"]]).isEmpty {
                errs.append(.required("metadata.annotations[kubernetes.io/service-account.name]", ""))
            }
        case "kubernetes.io/dockercfg": requireJSON(".dockercfg")
        case "kubernetes.io/dockerconfigjson": requireJSON(".dockerconfigjson")
        case "kubernetes.io/basic-auth":
            if data["username"] == nil && data["password"] == nil {
                errs.append(.required("data[username]", ""))
                errs.append(.required("data[password]", ""))
            }
        case "kubernetes.io/ssh-auth": require("ssh-privatekey")
        case "kubernetes.io/tls":
            require("tls.key")
            require("tls.crt")
        default: break
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        errs += K.immutable(object["type"], old["type"], "type")
        if old["immutable"]?.boolValue == true {
            if object["immutable"] != old["immutable"] {
                errs.append(.forbidden("immutable", "field is immutable when `immutable` is set"))
            }
            if (object["data"]?.objectValue ?? [:]) != (old["data"]?.objectValue ?? [:]) {
                errs.append(.forbidden("data", "field is immutable when `immutable` is set"))
            }
        }
        return errs
    }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        field == "type" ? .some(K.string(object["type"])) : nil
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Type", description: "Used to facilitate programmatic handling of secret data."),
            TableColumn("Data", description: "Data contains the secret data."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [
            .string(object.name ?? ""), .string(K.string(object["type"])),
            .int(Int64(object["data"]?.objectValue?.count ?? 0)), .string(TableFormat.age(of: object, now: now)),
        ]
    }
}
