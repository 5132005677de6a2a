import Foundation
import KubeModel

/// core/v1 ConfigMap: valid keys (no overlap between `data` and `binaryData`), base64
/// binary values, 1 MiB total, and the `immutable: true` lock.
public struct ConfigMapStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "ConfigMap", plural: "configmaps", shortNames: ["cm"], namespaced: true,
        schemaNames: ["v1": "io.k8s.api.core.v1.ConfigMap"])

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        var total = 0
        let data = object["data"]?.objectValue ?? [:]
        let binary = object["binaryData"]?.objectValue ?? [:]
        for key in data.keys.sorted() {
            for m in NameValidation.isConfigMapKey(key) { errs.append(.invalid(K.key("data", key), FieldError.show(.string(key)), m)) }
            total += key.utf8.count + (data[key]?.stringValue?.utf8.count ?? 0)
        }
        for key in binary.keys.sorted() {
            let p = K.key("binaryData", key)
            for m in NameValidation.isConfigMapKey(key) { errs.append(.invalid(p, FieldError.show(.string(key)), m)) }
            if data[key] != nil { errs.append(.invalid(p, FieldError.show(.string(key)), "duplicate of key present in data")) }
            guard let s = binary[key]?.stringValue, let bytes = Data(base64Encoded: s) else {
                errs.append(.invalid(p, FieldError.show(binary[key]), "illegal base64 data"))
                continue
            }
            total += key.utf8.count + bytes.count
        }
        if total > SecretStrategy.maxSize {
            errs.append(FieldError(.tooLong, "", "must have at most \(SecretStrategy.maxSize) bytes"))
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        if old["immutable"]?.boolValue == true {
            if object["immutable"] != old["immutable"] {
                errs.append(.forbidden("immutable", "field is immutable when `immutable` is set"))
            }
            for field in ["data", "binaryData"] where (object[field]?.objectValue ?? [:]) != (old[field]?.objectValue ?? [:]) {
                errs.append(.forbidden(field, "field is immutable when `immutable` is set"))
            }
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Data", description: "Data contains the configuration data."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let n = (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
        return [.string(object.name ?? ""), .int(Int64(n)), .string(TableFormat.age(of: object, now: now))]
    }
}
