import Foundation
import KubeModel

/// The Priority admission plugin. A new pod gets `spec.priority` and `spec.preemptionPolicy` from
/// its `priorityClassName`, or from the global default class (whose name it then carries), or 0
/// when there is none; a pod may not state a priority that differs from its class. Among
/// PriorityClasses only one may be the global default, and the system classes cannot be deleted.
public struct PriorityAdmission: AdmissionPlugin {
    public let name = "Priority"

    public init() {}

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard request.subresource == nil, request.groupResource == "pods" else { return }
        switch request.operation {
        case .create: try await resolve(&request, registry: registry)
        case .update: keepResolved(&request)
        case .delete: return
        }
    }

    public func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard request.subresource == nil, request.groupResource == "priorityclasses.scheduling.k8s.io" else { return }
        switch request.operation {
        case .create, .update:
            guard request.object["globalDefault"]?.boolValue == true,
                  let current = try await Self.globalDefault(registry),
                  request.operation == .create || current.name != request.name else { return }
            throw APIError.forbidden(request.resource, request.name,
                                     "PriorityClass \(current.name ?? "") is already marked as default. Only one default can exist")
        case .delete:
            if PriorityClassStrategy.systemClasses.contains(where: { $0.name == request.name }) {
                throw APIError.forbidden(request.resource, request.name, "this is a system priority class and cannot be deleted")
            }
        }
    }

    private func resolve(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard var spec = request.object["spec"], spec.objectValue != nil else { return }
        let className = spec["priorityClassName"]?.stringValue ?? ""
        var priority: Int64 = 0
        var policy = "PreemptLowerPriority"
        if className.isEmpty {
            if let chosen = try await Self.globalDefault(registry) {
                priority = chosen["value"]?.intValue ?? 0
                policy = chosen["preemptionPolicy"]?.stringValue ?? policy
                spec["priorityClassName"] = .string(chosen.name ?? "")
            }
        } else {
            guard let strategy = registry.catalog.strategy(group: "scheduling.k8s.io", plural: "priorityclasses"),
                  let found = try await registry.admissionFind(strategy, namespace: nil, name: className) else {
                throw APIError.forbidden(request.resource, request.name, "no PriorityClass with name \(className) was found")
            }
            priority = found["value"]?.intValue ?? 0
            policy = found["preemptionPolicy"]?.stringValue ?? policy
        }
        if let given = spec["priority"], !given.isNull, given.intValue != priority {
            throw APIError.forbidden(request.resource, request.name,
                                     "the integer value of priority (\(given.intValue.map(String.init) ?? "\(given)")) must not be provided in pod spec; priority admission controller computed \(priority) from the given PriorityClass name")
        }
        if let given = spec["preemptionPolicy"]?.stringValue, given != policy {
            throw APIError.forbidden(request.resource, request.name,
                                     "the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; priority admission controller computed \(policy) from the given PriorityClass name")
        }
        spec["priority"] = .int(priority)
        spec["preemptionPolicy"] = .string(policy)
        request.object["spec"] = spec
    }

    /// Priority was set at creation; an update that leaves it out keeps it (validation refuses
    /// any other change to it).
    private func keepResolved(_ request: inout AdmissionRequest) {
        guard let old = request.oldObject?["spec"], request.object["spec"]?.objectValue != nil else { return }
        for field in ["priority", "preemptionPolicy"] where (request.object[path: ["spec", field]] ?? .null).isNull {
            if let kept = old[field], !kept.isNull { request.object[path: ["spec", field]] = kept }
        }
    }

    /// The global default class; the lowest value wins when a race left several.
    static func globalDefault(_ registry: Registry) async throws(APIError) -> JSONValue? {
        guard let strategy = registry.catalog.strategy(group: "scheduling.k8s.io", plural: "priorityclasses") else { return nil }
        return try await registry.admissionList(strategy, namespace: nil)
            .filter { $0["globalDefault"]?.boolValue == true }
            .min { ($0["value"]?.intValue ?? 0) < ($1["value"]?.intValue ?? 0) }
    }
}
