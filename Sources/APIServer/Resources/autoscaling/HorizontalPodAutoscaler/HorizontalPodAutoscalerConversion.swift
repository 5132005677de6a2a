import Foundation
import KubeModel

/// v1 <-> v2 conversion of HorizontalPodAutoscaler, following Kubernetes: v1 keeps only the
/// CPU utilization target; the other metrics, current metrics, conditions and behavior ride
/// in `autoscaling.alpha.kubernetes.io/*` annotations (metric lists in v1's own format).
extension HorizontalPodAutoscalerStrategy {
    static let metricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics"
    static let currentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
    static let conditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"
    static let behaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior"
    static let roundTripAnnotations = [metricsAnnotation, currentMetricsAnnotation, conditionsAnnotation, behaviorAnnotation]

    public func convert(_ object: JSONValue, toVersion version: String) throws -> JSONValue {
        var o = object
        Self.dropRoundTripAnnotations(&o)
        guard version == "v1" else {
            o["apiVersion"] = .string(definition.apiVersion(version))
            return o
        }
        o["apiVersion"] = "autoscaling/v1"
        let spec = object["spec"] ?? .object([:])
        let status = object["status"]
        var annotations = o[path: ["metadata", "annotations"]]?.objectValue ?? [:]

        var v1Spec: JSONValue = .object([:])
        v1Spec["scaleTargetRef"] = spec["scaleTargetRef"]
        v1Spec["minReplicas"] = spec["minReplicas"]
        v1Spec["maxReplicas"] = spec["maxReplicas"]
        var others: [JSONValue] = []
        var cpuSeen = false
        for m in K.array(spec["metrics"]) {
            if Self.isCPUUtilization(m) {
                if !cpuSeen { v1Spec["targetCPUUtilizationPercentage"] = m[path: ["resource", "target", "averageUtilization"]] }
                cpuSeen = true
                continue
            }
            others.append(Self.metricSpecToV1(m))
        }
        if !others.isEmpty { annotations[Self.metricsAnnotation] = .string(JSONWriter.string(.array(others))) }
        if let b = spec["behavior"], !b.isNull { annotations[Self.behaviorAnnotation] = .string(JSONWriter.string(b)) }
        o["spec"] = v1Spec

        if let status, !status.isNull {
            var v1Status: JSONValue = .object([:])
            for f in ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"] { v1Status[f] = status[f] }
            if v1Status["desiredReplicas"] == nil { v1Status["desiredReplicas"] = 0 }
            if v1Status["currentReplicas"] == nil { v1Status["currentReplicas"] = 0 }
            let current = K.array(status["currentMetrics"])
            for m in current where K.string(m["type"]) == "Resource" && K.string(m[path: ["resource", "name"]]) == "cpu" {
                if let u = m[path: ["resource", "current", "averageUtilization"]] { v1Status["currentCPUUtilizationPercentage"] = u }
            }
            if !current.isEmpty {
                annotations[Self.currentMetricsAnnotation] = .string(JSONWriter.string(.array(current.map(Self.metricStatusToV1))))
            }
            let conditions = K.array(status["conditions"])
            if !conditions.isEmpty { annotations[Self.conditionsAnnotation] = .string(JSONWriter.string(.array(conditions))) }
            o["status"] = v1Status
        }
        o[path: ["metadata", "annotations"]] = annotations.isEmpty ? nil : .object(annotations)
        return o
    }

    public func convertToStorage(_ object: JSONValue, fromVersion version: String) throws -> JSONValue {
        var o = object
        o["apiVersion"] = .string(definition.apiVersion(definition.storageVersion))
        guard version == "v1" else {
            Self.dropRoundTripAnnotations(&o)
            return o
        }
        let annotations = object.annotations
        func decoded(_ key: String) -> JSONValue? {
            annotations[key].flatMap { try? JSONParser.parse($0) }
        }
        let v1Spec = object["spec"] ?? .object([:])
        var spec: JSONValue = .object([:])
        spec["scaleTargetRef"] = v1Spec["scaleTargetRef"]
        spec["minReplicas"] = v1Spec["minReplicas"]
        spec["maxReplicas"] = v1Spec["maxReplicas"]
        var metrics = K.array(decoded(Self.metricsAnnotation)).map(Self.metricSpecFromV1)
        if let cpu = v1Spec["targetCPUUtilizationPercentage"], !cpu.isNull {
            metrics.append(["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": cpu]]])
        }
        // v1 always had an implicit 80% CPU target; v2 makes it explicit.
        spec["metrics"] = metrics.isEmpty ? [Self.defaultCPUUtilization] : .array(metrics)
        if let b = decoded(Self.behaviorAnnotation), !b.isNull { spec["behavior"] = b }
        o["spec"] = spec

        if let v1Status = object["status"], !v1Status.isNull {
            var status: JSONValue = .object([:])
            for f in ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"] { status[f] = v1Status[f] }
            if let current = decoded(Self.currentMetricsAnnotation)?.arrayValue {
                status["currentMetrics"] = .array(current.map(Self.metricStatusFromV1))
            } else if let cpu = v1Status["currentCPUUtilizationPercentage"], !cpu.isNull {
                status["currentMetrics"] = [["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": cpu]]]]
            }
            if let conditions = decoded(Self.conditionsAnnotation)?.arrayValue { status["conditions"] = .array(conditions) }
            o["status"] = status
        }
        Self.dropRoundTripAnnotations(&o)
        return o
    }

    static func dropRoundTripAnnotations(_ o: inout JSONValue) {
        guard var a = o[path: ["metadata", "annotations"]]?.objectValue else { return }
        for k in roundTripAnnotations { a[k] = nil }
        o[path: ["metadata", "annotations"]] = a.isEmpty ? nil : .object(a)
    }

    static func isCPUUtilization(_ m: JSONValue) -> Bool {
        K.string(m["type"]) == "Resource" && K.string(m[path: ["resource", "name"]]) == "cpu"
            && m[path: ["resource", "target", "averageUtilization"]].map { !$0.isNull } ?? false
    }

    /// Builds an object from pairs, skipping absent values.
    static func obj(_ pairs: [(String, JSONValue?)]) -> JSONValue {
        var o: [String: JSONValue] = [:]
        for (k, v) in pairs { if let v, !v.isNull { o[k] = v } }
        return .object(o)
    }

    static func metricSpecToV1(_ m: JSONValue) -> JSONValue {
        var out = obj([("type", m["type"])])
        if let r = m["resource"] {
            out["resource"] = obj([("name", r["name"]), ("targetAverageUtilization", r[path: ["target", "averageUtilization"]]),
                                   ("targetAverageValue", r[path: ["target", "averageValue"]])])
        }
        if let r = m["containerResource"] {
            out["containerResource"] = obj([("name", r["name"]), ("container", r["container"]),
                                            ("targetAverageUtilization", r[path: ["target", "averageUtilization"]]),
                                            ("targetAverageValue", r[path: ["target", "averageValue"]])])
        }
        if let p = m["pods"] {
            out["pods"] = obj([("metricName", p[path: ["metric", "name"]]), ("selector", p[path: ["metric", "selector"]]),
                               ("targetAverageValue", p[path: ["target", "averageValue"]])])
        }
        if let x = m["object"] {
            out["object"] = obj([("target", x["describedObject"]), ("metricName", x[path: ["metric", "name"]]),
                                 ("selector", x[path: ["metric", "selector"]]), ("targetValue", x[path: ["target", "value"]]),
                                 ("averageValue", x[path: ["target", "averageValue"]])])
        }
        if let e = m["external"] {
            out["external"] = obj([("metricName", e[path: ["metric", "name"]]), ("metricSelector", e[path: ["metric", "selector"]]),
                                   ("targetValue", e[path: ["target", "value"]]), ("targetAverageValue", e[path: ["target", "averageValue"]])])
        }
        return out
    }

    static func metricSpecFromV1(_ m: JSONValue) -> JSONValue {
        var out = obj([("type", m["type"])])
        func target(_ util: JSONValue?, _ avg: JSONValue?, _ value: JSONValue? = nil) -> JSONValue {
            let type: JSONValue = util.map { !$0.isNull } ?? false ? "Utilization" : (value.map { !$0.isNull } ?? false ? "Value" : "AverageValue")
            return obj([("type", type), ("averageUtilization", util), ("averageValue", avg), ("value", value)])
        }
        if let r = m["resource"] {
            out["resource"] = obj([("name", r["name"]), ("target", target(r["targetAverageUtilization"], r["targetAverageValue"]))])
        }
        if let r = m["containerResource"] {
            out["containerResource"] = obj([("name", r["name"]), ("container", r["container"]),
                                            ("target", target(r["targetAverageUtilization"], r["targetAverageValue"]))])
        }
        if let p = m["pods"] {
            out["pods"] = obj([("metric", obj([("name", p["metricName"]), ("selector", p["selector"])])),
                               ("target", obj([("type", "AverageValue"), ("averageValue", p["targetAverageValue"])]))])
        }
        if let x = m["object"] {
            let avg = x["averageValue"].flatMap { $0.isNull ? nil : $0 }
            out["object"] = obj([("describedObject", x["target"]), ("metric", obj([("name", x["metricName"]), ("selector", x["selector"])])),
                                 ("target", obj([("type", avg == nil ? "Value" : "AverageValue"), ("value", x["targetValue"]), ("averageValue", avg)]))])
        }
        if let e = m["external"] {
            let value = e["targetValue"].flatMap { $0.isNull ? nil : $0 }
            out["external"] = obj([("metric", obj([("name", e["metricName"]), ("selector", e["metricSelector"])])),
                                   ("target", obj([("type", value == nil ? "AverageValue" : "Value"), ("value", value),
                                                   ("averageValue", e["targetAverageValue"])]))])
        }
        return out
    }

    static func metricStatusToV1(_ m: JSONValue) -> JSONValue {
        var out = obj([("type", m["type"])])
        if let r = m["resource"] {
            out["resource"] = obj([("name", r["name"]), ("currentAverageUtilization", r[path: ["current", "averageUtilization"]]),
                                   ("currentAverageValue", r[path: ["current", "averageValue"]])])
        }
        if let r = m["containerResource"] {
            out["containerResource"] = obj([("name", r["name"]), ("container", r["container"]),
                                            ("currentAverageUtilization", r[path: ["current", "averageUtilization"]]),
                                            ("currentAverageValue", r[path: ["current", "averageValue"]])])
        }
        if let p = m["pods"] {
            out["pods"] = obj([("metricName", p[path: ["metric", "name"]]), ("selector", p[path: ["metric", "selector"]]),
                               ("currentAverageValue", p[path: ["current", "averageValue"]])])
        }
        if let x = m["object"] {
            out["object"] = obj([("target", x["describedObject"]), ("metricName", x[path: ["metric", "name"]]),
                                 ("selector", x[path: ["metric", "selector"]]), ("currentValue", x[path: ["current", "value"]]),
                                 ("averageValue", x[path: ["current", "averageValue"]])])
        }
        if let e = m["external"] {
            out["external"] = obj([("metricName", e[path: ["metric", "name"]]), ("metricSelector", e[path: ["metric", "selector"]]),
                                   ("currentValue", e[path: ["current", "value"]]), ("currentAverageValue", e[path: ["current", "averageValue"]])])
        }
        return out
    }

    static func metricStatusFromV1(_ m: JSONValue) -> JSONValue {
        var out = obj([("type", m["type"])])
        if let r = m["resource"] {
            out["resource"] = obj([("name", r["name"]), ("current", obj([("averageUtilization", r["currentAverageUtilization"]),
                                                                        ("averageValue", r["currentAverageValue"])]))])
        }
        if let r = m["containerResource"] {
            out["containerResource"] = obj([("name", r["name"]), ("container", r["container"]),
                                            ("current", obj([("averageUtilization", r["currentAverageUtilization"]),
                                                             ("averageValue", r["currentAverageValue"])]))])
        }
        if let p = m["pods"] {
            out["pods"] = obj([("metric", obj([("name", p["metricName"]), ("selector", p["selector"])])),
                               ("current", obj([("averageValue", p["currentAverageValue"])]))])
        }
        if let x = m["object"] {
            out["object"] = obj([("describedObject", x["target"]), ("metric", obj([("name", x["metricName"]), ("selector", x["selector"])])),
                                 ("current", obj([("value", x["currentValue"]), ("averageValue", x["averageValue"])]))])
        }
        if let e = m["external"] {
            out["external"] = obj([("metric", obj([("name", e["metricName"]), ("selector", e["metricSelector"])])),
                                   ("current", obj([("value", e["currentValue"]), ("averageValue", e["currentAverageValue"])]))])
        }
        return out
    }
}
