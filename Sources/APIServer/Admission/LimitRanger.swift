import Foundation
import KubeModel

/// The LimitRanger admission plugin: on pod create, containers without requests or limits get
/// the namespace's LimitRange `defaultRequest` / `default` (noted in the
/// `kubernetes.io/limit-ranger` annotation), then min, max and maxLimitRequestRatio are enforced
/// per Container and per Pod with Kubernetes' messages (403 Forbidden). A request defaults to the
/// limit when only a limit is given: pod defaulting did that before admission.
/// Pod updates and subresources pass untouched, as in Kubernetes: a pod's containers cannot
/// change after create, so neither defaults nor bounds could apply.
public struct LimitRanger: AdmissionPlugin {
    typealias Q = ResourceQuotaUsage
    public let name = "LimitRanger"
    static let annotation = "kubernetes.io/limit-ranger"

    public init() {}

    static func applies(to request: AdmissionRequest) -> Bool {
        request.operation == .create && request.subresource == nil && request.groupResource == "pods"
    }

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard Self.applies(to: request), let ns = request.namespace else { return }
        let items = try await Self.items(namespace: ns, registry: registry).filter { $0["type"]?.stringValue == "Container" }
        guard !items.isEmpty else { return }
        var notes: [String] = []
        for item in items {
            notes += Self.applyDefaults(to: &request.object, limits: item["default"], requests: item["defaultRequest"])
        }
        if !notes.isEmpty {
            request.object[path: ["metadata", "annotations", Self.annotation]] = .string("LimitRanger plugin set: " + notes.joined(separator: "; "))
        }
    }

    public func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard Self.applies(to: request), let ns = request.namespace else { return }
        let items = try await Self.items(namespace: ns, registry: registry)
        guard !items.isEmpty else { return }
        let errors = Self.violations(pod: request.object, items: items)
        guard !errors.isEmpty else { return }
        throw APIError.forbidden(request.resource, request.name, errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]")
    }

    /// Every `spec.limits` item of the namespace's LimitRanges, oldest range first.
    static func items(namespace: String, registry: Registry) async throws(APIError) -> [JSONValue] {
        guard let s = registry.catalog.strategy(group: "", plural: "limitranges") else { return [] }
        let ranges = try await ResourceQuotaAdmission.listAll(s.definition, namespace: namespace, registry: registry)
        return ranges.flatMap { $0[path: ["spec", "limits"]]?.arrayValue ?? [] }
    }

    /// Fills missing container limits and requests; answers the annotation's notes
    /// (`cpu, memory request for container c`).
    static func applyDefaults(to pod: inout JSONValue, limits: JSONValue?, requests: JSONValue?) -> [String] {
        let defLimits = limits?.objectValue ?? [:]
        let defRequests = requests?.objectValue ?? [:]
        guard !defLimits.isEmpty || !defRequests.isEmpty else { return [] }
        var notes: [String] = []
        for (key, label) in [("containers", "container"), ("initContainers", "init container")] {
            guard var list = pod[path: ["spec", key]]?.arrayValue else { continue }
            for i in list.indices where list[i].objectValue != nil {
                var res = list[i]["resources"]?.objectValue ?? [:]
                var lim = res["limits"]?.objectValue ?? [:]
                var req = res["requests"]?.objectValue ?? [:]
                let setLimits = defLimits.keys.filter { lim[$0] == nil }.sorted()
                let setRequests = defRequests.keys.filter { req[$0] == nil }.sorted()
                for k in setLimits { lim[k] = defLimits[k] }
                for k in setRequests { req[k] = defRequests[k] }
                let cname = list[i]["name"]?.stringValue ?? ""
                if !setRequests.isEmpty { notes.append(setRequests.joined(separator: ", ") + " request for \(label) \(cname)") }
                if !setLimits.isEmpty { notes.append(setLimits.joined(separator: ", ") + " limit for \(label) \(cname)") }
                if !lim.isEmpty { res["limits"] = .object(lim) }
                if !req.isEmpty { res["requests"] = .object(req) }
                list[i]["resources"] = .object(res)
            }
            pod[path: ["spec", key]] = .array(list)
        }
        return notes
    }

    /// Kubernetes' messages for every bound the pod breaks, in item order.
    static func violations(pod: JSONValue, items: [JSONValue]) -> [String] {
        var errs: [String] = []
        for item in items {
            let type = item["type"]?.stringValue ?? ""
            switch type {
            case "Container":
                for key in ["initContainers", "containers"] {
                    for c in pod[path: ["spec", key]]?.arrayValue ?? [] {
                        errs += check(item, type, requests: Q.resourceList(c[path: ["resources", "requests"]]),
                                      limits: Q.resourceList(c[path: ["resources", "limits"]]))
                    }
                }
            case "Pod":
                let (requests, limits) = podTotals(pod["spec"] ?? .null)
                errs += check(item, type, requests: requests, limits: limits)
            default:
                continue  // PersistentVolumeClaim bounds apply to claims, which are not served.
            }
        }
        return errs
    }

    /// Requests and limits of the whole pod: containers summed, init containers as a floor.
    static func podTotals(_ spec: JSONValue) -> (requests: [String: Quantity], limits: [String: Quantity]) {
        var req: [String: Quantity] = [:]
        var lim: [String: Quantity] = [:]
        for c in spec["containers"]?.arrayValue ?? [] {
            Q.add(&req, Q.resourceList(c[path: ["resources", "requests"]]))
            Q.add(&lim, Q.resourceList(c[path: ["resources", "limits"]]))
        }
        for c in spec["initContainers"]?.arrayValue ?? [] {
            for (k, q) in Q.resourceList(c[path: ["resources", "requests"]]) where req[k].map({ $0 < q }) ?? true { req[k] = q }
            for (k, q) in Q.resourceList(c[path: ["resources", "limits"]]) where lim[k].map({ $0 < q }) ?? true { lim[k] = q }
        }
        return (req, lim)
    }

    static func check(_ item: JSONValue, _ type: String, requests: [String: Quantity], limits: [String: Quantity]) -> [String] {
        var errs: [String] = []
        for (k, min) in Q.resourceList(item["min"]).sorted(by: { $0.key < $1.key }) {
            if let e = minConstraint(type, k, min, requests[k], limits[k]) { errs.append(e) }
        }
        for (k, max) in Q.resourceList(item["max"]).sorted(by: { $0.key < $1.key }) {
            if let e = maxConstraint(type, k, max, requests[k], limits[k]) { errs.append(e) }
        }
        for (k, ratio) in Q.resourceList(item["maxLimitRequestRatio"]).sorted(by: { $0.key < $1.key }) {
            if let e = ratioConstraint(type, k, ratio, requests[k], limits[k]) { errs.append(e) }
        }
        return errs
    }

    static func minConstraint(_ type: String, _ r: String, _ min: Quantity, _ req: Quantity?, _ lim: Quantity?) -> String? {
        guard let req else { return "minimum \(r) usage per \(type) is \(min.canonical).  No request is specified" }
        if req < min { return "minimum \(r) usage per \(type) is \(min.canonical), but request is \(req.canonical)" }
        if let lim, lim < min { return "minimum \(r) usage per \(type) is \(min.canonical), but limit is \(lim.canonical)" }
        return nil
    }

    static func maxConstraint(_ type: String, _ r: String, _ max: Quantity, _ req: Quantity?, _ lim: Quantity?) -> String? {
        guard let lim else { return "maximum \(r) usage per \(type) is \(max.canonical).  No limit is specified" }
        if max < lim { return "maximum \(r) usage per \(type) is \(max.canonical), but limit is \(lim.canonical)" }
        if let req, max < req { return "maximum \(r) usage per \(type) is \(max.canonical), but request is \(req.canonical)" }
        return nil
    }

    static func ratioConstraint(_ type: String, _ r: String, _ ratio: Quantity, _ req: Quantity?, _ lim: Quantity?) -> String? {
        guard let req, !req.isZero else {
            return "\(r) max limit to request ratio per \(type) is \(ratio.canonical), but no request is specified or request is 0"
        }
        guard let lim, !lim.isZero else {
            return "\(r) max limit to request ratio per \(type) is \(ratio.canonical), but no limit is specified or limit is 0"
        }
        let observed = Double(lim.milliValue) / Double(req.milliValue)
        guard observed * 1000 > Double(ratio.milliValue) else { return nil }
        return "\(r) max limit to request ratio per \(type) is \(ratio.canonical), but provided ratio is \(String(format: "%f", observed))"
    }
}
