import Foundation
import KubeModel

/// autoscaling HorizontalPodAutoscaler, served as v2 (stored) and v1. v1 carries what it
/// cannot express in the annotations Kubernetes uses, so objects round-trip.
public struct HorizontalPodAutoscalerStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "autoscaling", versions: ["v2", "v1"], storageVersion: "v2", kind: "HorizontalPodAutoscaler",
        plural: "horizontalpodautoscalers", shortNames: ["hpa"], namespaced: true, categories: ["all"],
        subresources: [.status],
        schemaNames: [
            "v2": "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
            "v1": "io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler",
        ])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    static let defaultCPUUtilization: JSONValue = [
        "type": "Resource",
        "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 80]],
    ]

    /// minReplicas 1 in both versions; v2 also gets the 80% CPU metric when none is given
    /// and fully-populated behavior rules when `behavior` is present.
    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "minReplicas", 1)
        if object.apiVersion != "autoscaling/v1" {
            if K.array(spec["metrics"]).isEmpty { spec["metrics"] = [Self.defaultCPUUtilization] }
            K.withChild(&spec, "behavior") { b in
                b["scaleUp"] = Self.scalingRules(b["scaleUp"], defaults: [
                    "stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                    "policies": [["type": "Pods", "value": 4, "periodSeconds": 15], ["type": "Percent", "value": 100, "periodSeconds": 15]],
                ])
                b["scaleDown"] = Self.scalingRules(b["scaleDown"], defaults: [
                    "selectPolicy": "Max", "policies": [["type": "Percent", "value": 100, "periodSeconds": 15]],
                ])
            }
        }
        object["spec"] = spec
    }

    /// Fields the user set win over the defaults, one by one.
    static func scalingRules(_ given: JSONValue?, defaults: JSONValue) -> JSONValue {
        var out = defaults
        for (k, v) in given?.objectValue ?? [:] where !v.isNull { out[k] = v }
        return out
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let obj = object.apiVersion == "autoscaling/v1" ? ((try? convertToStorage(object, fromVersion: "v1")) ?? object) : object
        let spec = obj["spec"] ?? .object([:])
        var errs: [FieldError] = []
        for f in ["kind", "name"] {
            let v = K.string(spec[path: ["scaleTargetRef", f]])
            if v.isEmpty {
                errs.append(.required("spec.scaleTargetRef.\(f)", ""))
            } else {
                errs += NameValidation.isPathSegmentName(v).map { .invalid("spec.scaleTargetRef.\(f)", FieldError.show(.string(v)), $0) }
            }
        }
        let minR = spec["minReplicas"]?.intValue
        let maxR = K.int(spec["maxReplicas"])
        if let m = minR, m < 1 { errs.append(.invalid("spec.minReplicas", String(m), "must be greater than or equal to 1")) }
        if maxR < 1 { errs.append(.invalid("spec.maxReplicas", String(maxR), "must be greater than 0")) }
        if let m = minR, maxR < m { errs.append(.invalid("spec.maxReplicas", String(maxR), "must be greater than or equal to `minReplicas`")) }
        for (i, m) in K.array(spec["metrics"]).enumerated() { errs += Self.validateMetric(m, K.idx("spec.metrics", i)) }
        if let b = spec["behavior"], !b.isNull {
            for dir in ["scaleUp", "scaleDown"] { errs += Self.validateRules(b[dir], "spec.behavior.\(dir)") }
        }
        return errs
    }

    static let metricTypes = ["ContainerResource", "External", "Object", "Pods", "Resource"]
    static let sourceKeys = ["ContainerResource": "containerResource", "External": "external", "Object": "object", "Pods": "pods", "Resource": "resource"]

    static func validateMetric(_ m: JSONValue, _ p: String) -> [FieldError] {
        let type = K.string(m["type"])
        guard let key = sourceKeys[type] else {
            return type.isEmpty ? [.required(K.child(p, "type"), "must specify a metric source type")]
                : [.notSupported(K.child(p, "type"), FieldError.show(.string(type)), metricTypes)]
        }
        guard let src = m[key], !src.isNull else {
            return [.required(K.child(p, key), "must populate information for the given metric source")]
        }
        var errs: [FieldError] = []
        let sp = K.child(p, key)
        if key == "resource" || key == "containerResource" {
            if K.string(src["name"]).isEmpty { errs.append(.required(K.child(sp, "name"), "")) }
            if key == "containerResource" && K.string(src["container"]).isEmpty { errs.append(.required(K.child(sp, "container"), "")) }
        } else if K.string(src[path: ["metric", "name"]]).isEmpty {
            errs.append(.required(K.child(K.child(sp, "metric"), "name"), "must specify a metric name"))
        }
        if key == "object" {
            for f in ["kind", "name"] where K.string(src[path: ["describedObject", f]]).isEmpty {
                errs.append(.required("\(sp).describedObject.\(f)", ""))
            }
        }
        let target = src["target"] ?? .object([:])
        let tp = K.child(sp, "target")
        errs += K.enumValue(target["type"], K.child(tp, "type"), ["AverageValue", "Utilization", "Value"])
        if let u = target["averageUtilization"]?.intValue, u <= 0 {
            errs.append(.invalid(K.child(tp, "averageUtilization"), String(u), "must be greater than 0"))
        }
        for f in ["value", "averageValue"] {
            guard let v = target[f], !v.isNull else { continue }
            if let q = Quantity.parse(v.stringValue ?? v.intValue.map(String.init) ?? ""), q.mantissa > 0 { continue }
            errs.append(.invalid(K.child(tp, f), FieldError.show(v), "must be positive"))
        }
        return errs
    }

    static func validateRules(_ rules: JSONValue?, _ p: String) -> [FieldError] {
        guard let rules, !rules.isNull else { return [] }
        var errs = K.inRange(rules["stabilizationWindowSeconds"], K.child(p, "stabilizationWindowSeconds"), 0, 3600)
        if let sp = rules["selectPolicy"], !sp.isNull {
            errs += K.enumValue(sp, K.child(p, "selectPolicy"), ["Disabled", "Max", "Min"])
        }
        for (i, policy) in K.array(rules["policies"]).enumerated() {
            let pp = K.idx(K.child(p, "policies"), i)
            errs += K.enumValue(policy["type"], K.child(pp, "type"), ["Percent", "Pods"])
            if K.int(policy["value"]) <= 0 { errs.append(.invalid(K.child(pp, "value"), String(K.int(policy["value"])), "must be greater than zero")) }
            errs += K.inRange(policy["periodSeconds"] ?? 0, K.child(pp, "periodSeconds"), 1, 1800)
        }
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        K.nonnegative(object[path: ["status", "currentReplicas"]], "status.currentReplicas")
            + K.nonnegative(object[path: ["status", "desiredReplicas"]], "status.desiredReplicas")
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Reference", description: "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count."),
            TableColumn("Targets", description: "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used)."),
            TableColumn("MinPods", description: "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down."),
            TableColumn("MaxPods", description: "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up."),
            TableColumn("Replicas", description: "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let obj = object.apiVersion == "autoscaling/v1" ? ((try? convertToStorage(object, fromVersion: "v1")) ?? object) : object
        let spec = obj["spec"] ?? .object([:])
        let ref = "\(K.string(spec[path: ["scaleTargetRef", "kind"]]))/\(K.string(spec[path: ["scaleTargetRef", "name"]]))"
        let minPods = spec["minReplicas"]?.intValue.map(String.init) ?? "<unset>"
        return [
            .string(obj.name ?? ""), .string(ref),
            .string(Self.formatMetrics(K.array(spec["metrics"]), K.array(obj[path: ["status", "currentMetrics"]]))),
            .string(minPods), .int(K.int(spec["maxReplicas"])), .int(K.int(obj[path: ["status", "currentReplicas"]])),
            .string(TableFormat.age(of: obj, now: now)),
        ]
    }

    /// kubectl's TARGETS cell: `cpu: 40%/80%`, `<unknown>` for metrics not yet observed.
    static func formatMetrics(_ specs: [JSONValue], _ statuses: [JSONValue]) -> String {
        if specs.isEmpty { return "<none>" }
        func q(_ v: JSONValue?) -> String {
            guard let v, !v.isNull else { return "<unknown>" }
            let s = v.stringValue ?? v.intValue.map(String.init) ?? ""
            return Quantity.parse(s)?.canonical ?? s
        }
        var list: [String] = []
        for (i, spec) in specs.enumerated() {
            let status: JSONValue? = i < statuses.count ? statuses[i] : nil
            let type = K.string(spec["type"])
            switch type {
            case "External", "Object":
                let key = type == "External" ? "external" : "object"
                let target = spec[path: [key, "target"]] ?? .object([:])
                let cur = status?[key]
                if let avg = target["averageValue"], !avg.isNull {
                    let c = cur?[path: ["current", "averageValue"]].map { q($0) } ?? "<unknown>"
                    list.append("\(c)/\(q(avg)) (avg)")
                } else {
                    let c = cur.map { q($0[path: ["current", "value"]]) } ?? "<unknown>"
                    list.append("\(c)/\(q(target["value"]))")
                }
            case "Pods":
                let c = status?["pods"].map { q($0[path: ["current", "averageValue"]]) } ?? "<unknown>"
                list.append("\(c)/\(q(spec[path: ["pods", "target", "averageValue"]]))")
            case "Resource", "ContainerResource":
                let key = type == "Resource" ? "resource" : "containerResource"
                let name = K.string(spec[path: [key, "name"]])
                let target = spec[path: [key, "target"]] ?? .object([:])
                let cur = status?[key]
                if let avg = target["averageValue"], !avg.isNull {
                    let c = cur.map { q($0[path: ["current", "averageValue"]]) } ?? "<unknown>"
                    list.append("\(name): \(c)/\(q(avg))")
                } else {
                    let c = cur?[path: ["current", "averageUtilization"]]?.intValue.map { "\($0)%" } ?? "<unknown>"
                    let t = target["averageUtilization"]?.intValue.map { "\($0)%" } ?? "<auto>"
                    list.append("\(name): \(c)/\(t)")
                }
            default:
                list.append("<unknown type>")
            }
        }
        if list.count > 2 { return list.prefix(2).joined(separator: ", ") + " + \(list.count - 2) more..." }
        return list.joined(separator: ", ")
    }
}
