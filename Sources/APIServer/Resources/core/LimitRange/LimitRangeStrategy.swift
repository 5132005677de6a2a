import Foundation
import KubeModel

/// core/v1 LimitRange: per-namespace bounds and defaults for container, pod and claim
/// resources. Defaulting fills a Container item's `default` from `max` and `defaultRequest`
/// from `default` then `min`, as Kubernetes does; validation keeps
/// min ≤ defaultRequest ≤ default ≤ max and a sane maxLimitRequestRatio.
public struct LimitRangeStrategy: ResourceStrategy {
    typealias K = ResourceKit
    typealias Q = ResourceQuotaUsage

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "LimitRange", plural: "limitranges", shortNames: ["limits"], namespaced: true,
        schemaNames: ["v1": "io.k8s.api.core.v1.LimitRange"])

    static let fields = ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"]
    static let types: Set<String> = ["Container", "Pod", "PersistentVolumeClaim"]

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.eachElement(&spec, "limits") { item in
            for f in Self.fields { K.withChild(&item, f) { Self.canonicalize(&$0) } }
            guard item["type"]?.stringValue == "Container" else { return }
            var def = item["default"]?.objectValue ?? [:]
            var defReq = item["defaultRequest"]?.objectValue ?? [:]
            for (k, v) in item["max"]?.objectValue ?? [:] where def[k] == nil { def[k] = v }
            for (k, v) in def where defReq[k] == nil { defReq[k] = v }
            for (k, v) in item["min"]?.objectValue ?? [:] where defReq[k] == nil { defReq[k] = v }
            if !def.isEmpty { item["default"] = .object(def) }
            if !defReq.isEmpty { item["defaultRequest"] = .object(defReq) }
        }
        object["spec"] = spec
    }

    /// Rewrites parseable quantities in their canonical form, as the API server stores them.
    static func canonicalize(_ list: inout JSONValue) {
        guard var m = list.objectValue else { return }
        for (k, v) in m { if let q = Q.quantity(v) { m[k] = .string(q.canonical) } }
        list = .object(m)
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        for (i, item) in K.array(object[path: ["spec", "limits"]]).enumerated() {
            let p = K.idx("spec.limits", i)
            let type = K.string(item["type"])
            if type.isEmpty {
                errs.append(.required(K.child(p, "type"), ""))
            } else if !Self.types.contains(type) && !type.contains("/") {
                errs.append(.notSupported(K.child(p, "type"), FieldError.show(.string(type)), Self.types.sorted()))
            }
            var lists: [String: [String: Quantity]] = [:]
            for f in Self.fields {
                for (name, v) in (item[f]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let fp = K.key(K.child(p, f), name)
                    guard let q = Q.quantity(v) else { errs.append(.invalid(fp, FieldError.show(v), Quantity.syntaxError)); continue }
                    if q.mantissa < 0 { errs.append(.invalid(fp, FieldError.show(.string(q.canonical)), "must be greater than or equal to 0")) }
                    lists[f, default: [:]][name] = q
                }
            }
            if type == "Pod" {
                for f in ["default", "defaultRequest"] where !(lists[f] ?? [:]).isEmpty {
                    errs.append(.forbidden(K.child(p, f), "may not be specified when `type` is 'Pod'"))
                }
            }
            errs += Self.ordering(lists, p)
        }
        return errs
    }

    /// min ≤ defaultRequest ≤ default ≤ max per resource, and a ratio ≥ 1 that max/min allows.
    static func ordering(_ l: [String: [String: Quantity]], _ p: String) -> [FieldError] {
        var errs: [FieldError] = []
        let names = Set(l.values.flatMap(\.keys)).sorted()
        for n in names {
            let mn = l["min"]?[n], mx = l["max"]?[n], df = l["default"]?[n], dr = l["defaultRequest"]?[n]
            func bad(_ field: String, _ q: Quantity, _ msg: String) {
                errs.append(.invalid(K.key(K.child(p, field), n), FieldError.show(.string(q.canonical)), msg))
            }
            if let mn, let mx, mx < mn { bad("min", mn, "min value \(mn.canonical) is greater than max value \(mx.canonical)") }
            if let mn, let dr, dr < mn { bad("defaultRequest", dr, "min value \(mn.canonical) is greater than default request value \(dr.canonical)") }
            if let dr, let mx, mx < dr { bad("defaultRequest", dr, "default request value \(dr.canonical) is greater than max value \(mx.canonical)") }
            if let dr, let df, df < dr { bad("defaultRequest", dr, "default request value \(dr.canonical) is greater than default limit value \(df.canonical)") }
            if let mn, let df, df < mn { bad("default", df, "min value \(mn.canonical) is greater than default value \(df.canonical)") }
            if let df, let mx, mx < df { bad("default", df, "default value \(df.canonical) is greater than max value \(mx.canonical)") }
            if let r = l["maxLimitRequestRatio"]?[n] {
                if r < Quantity(mantissa: 1) { bad("maxLimitRequestRatio", r, "ratio \(r.canonical) is less than 1") }
                if let mn, let mx, !mn.isZero, r.doubleValue > mx.doubleValue / mn.doubleValue {
                    bad("maxLimitRequestRatio", r, "ratio \(r.canonical) is greater than max/min = \(String(format: "%f", mx.doubleValue / mn.doubleValue))")
                }
            }
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Created At", format: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), object[path: ["metadata", "creationTimestamp"]] ?? .string("")]
    }
}
