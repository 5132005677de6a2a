import Foundation
import KubeModel

/// Kubernetes' node authorizer (and the part of NodeRestriction an authorizer can judge),
/// simplified: a kubelet, user `system:node:<name>` in group `system:nodes`, may touch only
/// its own Node and Lease, the pods bound to it (lists and watches of every pod go to RBAC,
/// where `system:node` lets it read them for NetworkPolicy enforcement), and the Secrets, ConfigMaps and
/// PersistentVolumeClaims (and their volumes) those pods use. For those kinds its answer is final, allow or deny, whatever RBAC says; anything else
/// a node asks (services, endpoints, discovery, ...) and every other user go to `next` (RBAC).
///
/// Relationships come from a graph kept current by the pod watch (`NodeAuthorizationGraph`);
/// when it has no edge, the store is read before refusing: a kubelet that just saw its pod
/// bound must not be refused its Secret because the graph lagged behind.
///
/// Not judged here: the name of a Node or pod in a create body (the authorizer never sees
/// bodies; Kubernetes' NodeRestriction admission does that).
public final class NodeAuthorizer: Authorizer {
    static let nodeGroup = "system:nodes"
    static let userPrefix = "system:node:"
    static let leaseNamespace = "kube-node-lease"

    let store: any Store
    let graph: NodeAuthorizationGraph?
    /// Who decides everything not about a node's own objects.
    public let next: any Authorizer

    /// Without a `graph` (or before it caught up) every relationship is read from the store.
    public init(store: any Store, graph: NodeAuthorizationGraph? = nil, next: any Authorizer) {
        self.store = store
        self.graph = graph
        self.next = next
    }

    /// The node a user acts for, or nil when it is no kubelet identity.
    static func nodeName(of user: UserInfo) -> String? {
        guard user.groups.contains(nodeGroup), user.name.hasPrefix(userPrefix) else { return nil }
        let name = String(user.name.dropFirst(userPrefix.count))
        return name.isEmpty ? nil : name
    }

    public func authorize(_ a: RequestAttributes) async -> AuthorizationDecision {
        guard a.isResourceRequest, let node = Self.nodeName(of: a.user) else { return await next.authorize(a) }
        switch (a.apiGroup, a.resource) {
        case ("", "nodes"): return nodes(a, node: node)
        case ("", "pods"): return await pods(a, node: node)
        case ("", "secrets"), ("", "configmaps"): return await referenced(a, node: node)
        case ("", "persistentvolumeclaims"), ("", "persistentvolumes"): return await volume(a, node: node)
        case ("coordination.k8s.io", "leases"): return lease(a, node: node)
        case ("", "serviceaccounts") where a.subresource == "token": return await serviceAccountToken(a, node: node)
        case ("", "events"), ("events.k8s.io", "events"):
            return ["create", "patch", "update"].contains(a.verb) ? allow("node may record events") : deny(a, node)
        default: return await next.authorize(a)
        }
    }

    private func allow(_ reason: String) -> AuthorizationDecision { AuthorizationDecision(allowed: true, reason: reason) }

    private func deny(_ a: RequestAttributes, _ node: String, _ why: String? = nil) -> AuthorizationDecision {
        AuthorizationDecision(allowed: false, reason: why ?? "node '\(node)' may not \(a.verb) \(a.resourceWithSubresource) here")
    }

    // MARK: - kinds

    /// Any node may read Nodes (a kubelet looks at others, e.g. for topology); only its own
    /// Node and its status may it write.
    func nodes(_ a: RequestAttributes, node: String) -> AuthorizationDecision {
        guard a.subresource.isEmpty || a.subresource == "status" else { return deny(a, node) }
        switch a.verb {
        case "get", "list", "watch": return allow("nodes are readable by nodes")
        // The name of a POST is in the body, which an authorizer does not see.
        case "create": return a.name.isEmpty || a.name == node ? allow("node registers itself") : deny(a, node)
        case "update", "patch", "delete":
            return a.name == node ? allow("node writes its own Node") : deny(a, node, "node '\(node)' cannot modify node '\(a.name)'")
        default: return deny(a, node)
        }
    }

    /// Reads and status writes of pods bound to the node; lists and watches only when
    /// selected by `spec.nodeName=<node>`.
    func pods(_ a: RequestAttributes, node: String) async -> AuthorizationDecision {
        switch (a.verb, a.subresource) {
        case ("list", ""), ("watch", ""):
            if Self.selects(a.fieldSelector ?? "", field: "spec.nodeName", value: node) { return allow("pods of node '\(node)'") }
            // Every pod, for NetworkPolicy enforcement (peers live on any node): a read-only
            // grant the `system:node` role holds, as a CNI agent's service account does.
            return await next.authorize(a)
        case ("get", ""), ("delete", ""), ("get", "status"), ("update", "status"), ("patch", "status"):
            guard await boundNode(namespace: a.namespace, pod: a.name) == node else {
                return deny(a, node, "no relationship found between node '\(node)' and this object")
            }
            return allow("pod bound to node '\(node)'")
        default:
            return deny(a, node)
        }
    }

    /// A Secret or ConfigMap some pod bound to the node refers to; list and watch only of
    /// that one object (`metadata.name=`), as the kubelet's watching secret manager does.
    func referenced(_ a: RequestAttributes, node: String) async -> AuthorizationDecision {
        var name = a.name
        switch a.verb {
        case "get": break
        case "list", "watch":
            guard name.isEmpty, let selector = a.fieldSelector, let selected = Self.value(in: selector, of: "metadata.name") else {
                return deny(a, node)
            }
            name = selected
        default: return deny(a, node)
        }
        guard !name.isEmpty, !a.namespace.isEmpty,
              await isReferenced(kind: a.resource, namespace: a.namespace, name: name, node: node) else {
            return deny(a, node, "no relationship found between node '\(node)' and this object")
        }
        return allow("\(a.resource) used by a pod on node '\(node)'")
    }

    /// `get` of a claim some pod bound to the node uses, and of the volume bound to such a claim.
    func volume(_ a: RequestAttributes, node: String) async -> AuthorizationDecision {
        guard a.verb == "get", a.subresource.isEmpty, !a.name.isEmpty else { return deny(a, node) }
        let related: Bool
        if a.resource == "persistentvolumeclaims" {
            let used = await isReferenced(kind: a.resource, namespace: a.namespace, name: a.name, node: node)
            related = !a.namespace.isEmpty && used
        } else {
            related = await isVolumeOfClaimInUse(volume: a.name, node: node)
        }
        guard related else { return deny(a, node, "no relationship found between node '\(node)' and this object") }
        return allow("\(a.resource) used by a pod on node '\(node)'")
    }

    /// Whether the volume's `claimRef` names a claim a pod bound to the node uses, or its node
    /// affinity pins it to the node (`kubernetes.io/hostname In [node]`: a local volume). A
    /// volume that does not exist is allowed too, so that the node gets the 404 telling it to
    /// remove the directory of a deleted local volume.
    func isVolumeOfClaimInUse(volume: String, node: String) async -> Bool {
        let found: StoredObject?
        do { found = try await store.get(key: "/registry/core/persistentvolumes/\(volume)") } catch { return false }
        guard let stored = found else { return true }
        if Self.pins(stored.object, to: node) { return true }
        guard let ref = stored.object[path: ["spec", "claimRef"]], let ns = ref["namespace"]?.stringValue,
              let claim = ref["name"]?.stringValue else { return false }
        return await isReferenced(kind: "persistentvolumeclaims", namespace: ns, name: claim, node: node)
    }

    /// Whether some required node-affinity term of a volume selects only this node by hostname.
    static func pins(_ volume: JSONValue, to node: String) -> Bool {
        let terms = volume[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]]?.arrayValue ?? []
        return terms.contains { term in
            (term["matchExpressions"]?.arrayValue ?? []).contains {
                $0["key"]?.stringValue == "kubernetes.io/hostname" && $0["operator"]?.stringValue == "In"
                    && $0["values"]?.arrayValue == [.string(node)]
            }
        }
    }

    /// Only `kube-node-lease/<node>`.
    func lease(_ a: RequestAttributes, node: String) -> AuthorizationDecision {
        guard a.namespace == Self.leaseNamespace, a.subresource.isEmpty else { return deny(a, node) }
        // The name of a POST is in the body; every other verb names the Lease.
        let own = a.name == node || (a.verb == "create" && a.name.isEmpty)
        guard own, ["create", "get", "update", "patch", "delete"].contains(a.verb) else { return deny(a, node) }
        return allow("node renews its Lease")
    }

    /// Tokens only for an account that a pod bound to the node runs as. That the token is
    /// bound to such a pod is in the body, which `Registry.createToken` checks.
    func serviceAccountToken(_ a: RequestAttributes, node: String) async -> AuthorizationDecision {
        guard a.verb == "create", !a.name.isEmpty, !a.namespace.isEmpty,
              await runsAs(serviceAccount: a.name, namespace: a.namespace, node: node) else {
            return deny(a, node, "no relationship found between node '\(node)' and this object")
        }
        return allow("service account of a pod on node '\(node)'")
    }

    // MARK: - store lookups

    func runsAs(serviceAccount: String, namespace: String, node: String) async -> Bool {
        if graph?.has(node: node, kind: "serviceaccounts", namespace: namespace, name: serviceAccount) == true { return true }
        var after: String?
        while true {
            guard let page = try? await store.list(prefix: "/registry/core/pods/\(namespace)/", startAfter: after, limit: 500,
                                                   atRevision: nil) else { return false }
            for item in page.items where item.object[path: ["spec", "nodeName"]]?.stringValue == node {
                let sa = item.object[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
                if (sa.isEmpty ? "default" : sa) == serviceAccount { return true }
            }
            guard page.hasMore, let last = page.items.last else { return false }
            after = last.key
        }
    }

    func boundNode(namespace: String, pod: String) async -> String? {
        guard !namespace.isEmpty, !pod.isEmpty,
              let stored = try? await store.get(key: "/registry/core/pods/\(namespace)/\(pod)") else { return nil }
        return stored.object[path: ["spec", "nodeName"]]?.stringValue
    }

    func isReferenced(kind: String, namespace: String, name: String, node: String) async -> Bool {
        if graph?.has(node: node, kind: kind, namespace: namespace, name: name) == true { return true }
        var after: String?
        let prefix = "/registry/core/pods/\(namespace)/"
        while true {
            guard let page = try? await store.list(prefix: prefix, startAfter: after, limit: 500, atRevision: nil) else { return false }
            for item in page.items where item.object[path: ["spec", "nodeName"]]?.stringValue == node {
                let refs = PodReferences(item.object)
                let names = kind == "secrets" ? refs.secrets : kind == "configmaps" ? refs.configMaps : refs.claims
                if names.contains(name) { return true }
            }
            guard page.hasMore, let last = page.items.last else { return false }
            after = last.key
        }
    }

    // MARK: - field selectors

    /// Whether `selector` (`a=b,c==d`) requires `field` to equal `value`.
    static func selects(_ selector: String, field: String, value: String) -> Bool {
        Self.value(in: selector, of: field) == value
    }

    /// The value a selector requires of `field` (`=` or `==`); nil when it does not.
    static func value(in selector: String, of field: String) -> String? {
        for term in selector.split(separator: ",") {
            let t = term.trimmingCharacters(in: .whitespaces)
            for op in ["==", "="] where t.hasPrefix(field + op) && !t.hasPrefix(field + "!=") {
                return String(t.dropFirst(field.count + op.count))
            }
        }
        return nil
    }
}

/// The Secrets and ConfigMaps a pod uses: volumes (secret, configMap, projected sources),
/// env `valueFrom`, `envFrom` of every container kind, and image pull secrets; and the
/// PersistentVolumeClaims its volumes name.
struct PodReferences: Equatable {
    var secrets: Set<String> = []
    var configMaps: Set<String> = []
    var claims: Set<String> = []

    init(_ pod: JSONValue) {
        let spec = pod["spec"] ?? .object([:])
        for ref in spec["imagePullSecrets"]?.arrayValue ?? [] { Self.add(&secrets, ref["name"]) }
        for volume in spec["volumes"]?.arrayValue ?? [] {
            Self.add(&secrets, volume[path: ["secret", "secretName"]])
            Self.add(&configMaps, volume[path: ["configMap", "name"]])
            Self.add(&claims, volume[path: ["persistentVolumeClaim", "claimName"]])
            for source in volume[path: ["projected", "sources"]]?.arrayValue ?? [] {
                Self.add(&secrets, source[path: ["secret", "name"]])
                Self.add(&configMaps, source[path: ["configMap", "name"]])
            }
        }
        for kind in ["initContainers", "containers", "ephemeralContainers"] {
            for container in spec[kind]?.arrayValue ?? [] {
                for env in container["env"]?.arrayValue ?? [] {
                    Self.add(&secrets, env[path: ["valueFrom", "secretKeyRef", "name"]])
                    Self.add(&configMaps, env[path: ["valueFrom", "configMapKeyRef", "name"]])
                }
                for from in container["envFrom"]?.arrayValue ?? [] {
                    Self.add(&secrets, from[path: ["secretRef", "name"]])
                    Self.add(&configMaps, from[path: ["configMapRef", "name"]])
                }
            }
        }
    }

    private static func add(_ set: inout Set<String>, _ value: JSONValue?) {
        if let name = value?.stringValue, !name.isEmpty { set.insert(name) }
    }
}

extension Authorizer {
    /// The RBAC authorizer at the end of the chain, for the checks that read RBAC policy
    /// itself (escalation, rules reviews).
    var rbacAuthorizer: RBACAuthorizer? {
        if let rbac = self as? RBACAuthorizer { return rbac }
        return (self as? NodeAuthorizer)?.next.rbacAuthorizer
    }
}
