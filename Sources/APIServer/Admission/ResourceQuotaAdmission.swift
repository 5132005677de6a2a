import KubeModel

/// ResourceQuota admission: a create is refused (403) when it would take any of the
/// namespace's quotas over `spec.hard`, or when a quota limits cpu/memory and a container does
/// not say how much it needs. Usage is recomputed from the store (terminal pods excluded)
/// rather than read from `status.used`, so the answer does not wait for the controller.
/// An update is charged what it adds (a Service turned NodePort takes node ports), never
/// refused for what it keeps or frees; deletes and subresources pass.
///
/// Concurrent creates in one namespace may both pass and overshoot a limit slightly: Kubernetes
/// serializes them by writing `status.used` with a resourceVersion precondition; here the
/// check and the write are not one transaction.
public struct ResourceQuotaAdmission: AdmissionPlugin {
    typealias Q = ResourceQuotaUsage
    public let name = "ResourceQuota"

    public init() {}

    public func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard let ns = request.namespace, request.resource.namespaced, request.operation != .delete, request.subresource == nil,
              let quotaStrategy = registry.catalog.strategy(group: "", plural: "resourcequotas") else { return }
        let def = request.resource
        let isPod = def.group.isEmpty && def.plural == "pods"
        var delta = Q.usage(group: def.group, plural: def.plural, object: request.object)
        let old = request.operation == .update ? request.oldObject : nil
        if let old { delta = Self.growth(delta, from: Q.usage(group: def.group, plural: def.plural, object: old)) }
        guard !delta.isEmpty else { return }
        var quotas = try await Self.listAll(quotaStrategy.definition, namespace: ns, registry: registry)
        // A quota being created counts itself against the others, not against its own limits.
        quotas = quotas.filter { !(def.plural == "resourcequotas" && $0.name == request.name) }
        quotas = quotas.filter { Q.matchesScopes($0["spec"] ?? .null, object: request.object, isPod: isPod) }
        guard !quotas.isEmpty else { return }
        // Constraints first, as Kubernetes checks them before usage; a pod's containers are
        // fixed after create.
        if isPod && old == nil {
            for quota in quotas.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
                let hard = Set((quota[path: ["spec", "hard"]]?.objectValue ?? [:]).keys)
                if let missing = Q.missingCompute(request.object, required: hard) {
                    throw APIError.forbidden(def, request.name, "failed quota: \(quota.name ?? ""): \(missing)")
                }
            }
        }
        // Unscoped quotas all see the same usage; scoped ones count only the pods in scope.
        var unscoped: [String: Quantity]?
        for quota in quotas.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            let spec = quota["spec"] ?? .null
            let hard = Q.resourceList(spec["hard"])
            let requested = delta.filter { hard[$0.key] != nil }
            guard !requested.isEmpty else { continue }
            let scoped = !(spec["scopes"]?.arrayValue ?? []).isEmpty || spec["scopeSelector"] != nil
            var base: [String: Quantity]
            if scoped {
                base = try await Self.currentUsage(def, namespace: ns, registry: registry, excluding: request.name, quotaSpec: spec)
            } else if let unscoped {
                base = unscoped
            } else {
                base = try await Self.currentUsage(def, namespace: ns, registry: registry, excluding: request.name, quotaSpec: spec)
                unscoped = base
            }
            // What the object held before its update is in use until the update lands.
            if let old, Q.matchesScopes(spec, object: old, isPod: isPod) { Q.add(&base, Q.usage(group: def.group, plural: def.plural, object: old)) }
            var exceeded: [String] = []
            for (k, q) in requested {
                let limit = hard[k] ?? Quantity(mantissa: 0)
                if limit < (base[k] ?? Quantity(mantissa: 0)) + q { exceeded.append(k) }
            }
            guard !exceeded.isEmpty else { continue }
            func mask(_ m: [String: Quantity]) -> [String: Quantity] {
                var out: [String: Quantity] = [:]
                for k in exceeded { out[k] = m[k] ?? Quantity(mantissa: 0) }
                return out
            }
            throw APIError.forbidden(def, request.name, "exceeded quota: \(quota.name ?? ""), requested: \(Q.pretty(mask(requested))), "
                                     + "used: \(Q.pretty(mask(base))), limited: \(Q.pretty(mask(hard)))")
        }
    }

    /// The resources `new` uses more of than `old`, by how much more.
    static func growth(_ new: [String: Quantity], from old: [String: Quantity]) -> [String: Quantity] {
        var out: [String: Quantity] = [:]
        let zero = Quantity(mantissa: 0)
        for (k, q) in new {
            let before = old[k] ?? zero
            guard before < q else { continue }
            out[k] = q + Quantity(mantissa: -before.mantissa, scale: before.scale, format: before.format)
        }
        return out
    }

    /// What the namespace's live objects of `def`'s kind use, matching the quota's scopes.
    static func currentUsage(_ def: ResourceDefinition, namespace: String, registry: Registry, excluding name: String,
                             quotaSpec: JSONValue) async throws(APIError) -> [String: Quantity] {
        let isPod = def.group.isEmpty && def.plural == "pods"
        var total: [String: Quantity] = [:]
        for object in try await listAll(def, namespace: namespace, registry: registry) where object.name != name {
            guard Q.matchesScopes(quotaSpec, object: object, isPod: isPod) else { continue }
            Q.add(&total, Q.usage(group: def.group, plural: def.plural, object: object))
        }
        return total
    }

    /// Every stored object of a namespaced resource in one namespace, as admission sees them.
    static func listAll(_ def: ResourceDefinition, namespace: String, registry: Registry) async throws(APIError) -> [JSONValue] {
        guard let strategy = registry.catalog.strategy(group: def.group, plural: def.plural) else { return [] }
        return try await registry.admissionList(strategy, namespace: namespace)
    }
}
