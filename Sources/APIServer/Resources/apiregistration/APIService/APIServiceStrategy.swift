import Foundation
import KubeModel

/// apiregistration.k8s.io/v1 APIService: one group/version and who serves it, this server
/// (`Local`, no `spec.service`) or a Service of the cluster the server proxies to. The
/// server keeps the Local ones (`LocalAPIServices`); `APIServiceAvailability` keeps the
/// Available condition of every one.
public struct APIServiceStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apiregistration.k8s.io", versions: ["v1"], kind: "APIService", plural: "apiservices",
        namespaced: false, categories: ["api-extensions"], subresources: [.status],
        schemaNames: ["v1": "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    /// `VERSION.GROUP`, which is `v1.` for the core group: a path segment, not a DNS name.
    public var nameRule: NameRule { .pathSegment }

    public func applyDefaults(to object: inout JSONValue) {
        K.withChild(&object, "spec") { spec in
            K.withChild(&spec, "service") { service in K.fill(&service, "port", 443) }
        }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        let group = K.string(spec["group"])
        let version = K.string(spec["version"])
        var errs: [FieldError] = []
        let name = object.name ?? ""
        let expected = "\(version).\(group)"
        if name != expected {
            errs.append(.invalid("metadata.name", FieldError.show(.string(name)), "must be `spec.version+\".\"+spec.group`: \"\(expected)\""))
        }
        if !group.isEmpty {
            errs += NameValidation.validateObjectName(group, path: "spec.group", rule: .dns1123Subdomain)
        }
        if version.isEmpty {
            errs.append(.required("spec.version", ""))
        } else {
            errs += NameValidation.validateObjectName(version, path: "spec.version", rule: .dns1035Label)
        }
        if K.int(spec["groupPriorityMinimum"]) <= 0 || K.int(spec["groupPriorityMinimum"]) > 20000 {
            errs.append(.invalid("spec.groupPriorityMinimum", String(K.int(spec["groupPriorityMinimum"])),
                                 "must be positive and less than 20000"))
        }
        if K.int(spec["versionPriority"]) <= 0 || K.int(spec["versionPriority"]) > 1000 {
            errs.append(.invalid("spec.versionPriority", String(K.int(spec["versionPriority"])), "must be positive and less than 1000"))
        }
        let insecure = spec["insecureSkipTLSVerify"]?.boolValue == true
        let caBundle = K.string(spec["caBundle"])
        if let service = spec["service"], !service.isNull {
            if K.string(service["namespace"]).isEmpty { errs.append(.required("spec.service.namespace", "")) }
            if K.string(service["name"]).isEmpty { errs.append(.required("spec.service.name", "")) }
            errs += K.inRange(service["port"], "spec.service.port", 1, 65535)
            if insecure && !caBundle.isEmpty {
                errs.append(.invalid("spec.insecureSkipTLSVerify", "true", "may not be true if caBundle is present"))
            }
        } else {
            if insecure { errs.append(.invalid("spec.insecureSkipTLSVerify", "true", "must not be set if service is not set")) }
            if !caBundle.isEmpty { errs.append(.invalid("spec.caBundle", FieldError.show(.string(caBundle)), "must not be set if service is not set")) }
        }
        if !caBundle.isEmpty, !K.isBase64(caBundle) {
            errs.append(.invalid("spec.caBundle", FieldError.show(.string(caBundle)), "must be base64 encoded"))
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
         TableColumn("Service", description: "The reference to the service that hosts this API endpoint."),
         TableColumn("Available", description: "Whether this service is available."),
         TableColumn("Age", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created.")]
    }

    /// As kube-aggregator prints: `Local` for a group this server serves, `ns/name` otherwise;
    /// the Available condition's status, with its reason when it is not True.
    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        var service = "Local"
        if let s = spec["service"], !s.isNull { service = "\(K.string(s["namespace"]))/\(K.string(s["name"]))" }
        var available = "Unknown"
        if let c = object[path: ["status", "conditions"]]?.arrayValue?.first(where: { $0["type"]?.stringValue == "Available" }) {
            available = K.string(c["status"])
            if available != "True", let reason = c["reason"]?.stringValue { available += " (\(reason))" }
        }
        return [.string(object.name ?? ""), .string(service), .string(available), .string(TableFormat.age(of: object, now: now))]
    }
}
