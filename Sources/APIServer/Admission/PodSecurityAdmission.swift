import KubeModel

/// Pod Security admission: the namespace's `pod-security.kubernetes.io/{enforce,warn,audit}`
/// labels pick a level (privileged, baseline, restricted). Pods that break the enforce level are
/// refused with 403; the warn level adds a `Warning` header. Workloads with pod templates
/// (Deployments, ReplicaSets…) are never refused, only warned about, as in Kubernetes.
/// Audit annotations are not produced. Every `-version` label is read as `latest`.
///
/// Creates and updates are checked; an update only when it changes what the policy looks at
/// (a container image or a seccomp annotation of a pod, any part of a template), so a pod
/// admitted before its namespace was labelled can still have its labels changed. Deletes and
/// subresources (`status`) pass, as in Kubernetes.
///
/// Runs in the mutating phase, after the defaulting plugins before it, because only that phase
/// can hand warnings back to the response.
public struct PodSecurityAdmission: AdmissionPlugin {
    public typealias Level = PodSecurityChecks.Level
    public let name = "PodSecurity"

    static let labelPrefix = "pod-security.kubernetes.io/"

    /// Resources whose pod template sits at `path` below the object.
    static let templates: [String: [String]] = [
        "deployments.apps": ["spec", "template"], "replicasets.apps": ["spec", "template"],
        "statefulsets.apps": ["spec", "template"], "daemonsets.apps": ["spec", "template"],
        "replicationcontrollers": ["spec", "template"], "jobs.batch": ["spec", "template"],
        "cronjobs.batch": ["spec", "jobTemplate", "spec", "template"],
    ]

    /// The levels a namespace's labels ask for; a missing label means privileged and an
    /// invalid one restricted (failing closed, as Kubernetes does).
    public struct Policy: Sendable, Equatable {
        public var enforce: Level = .privileged
        public var warn: Level = .privileged
        public var audit: Level = .privileged

        public init(enforce: Level = .privileged, warn: Level = .privileged, audit: Level = .privileged) {
            self.enforce = enforce
            self.warn = warn
            self.audit = audit
        }

        public init(labels: [String: String]) {
            func level(_ mode: String) -> Level {
                guard let v = labels[PodSecurityAdmission.labelPrefix + mode] else { return .privileged }
                return Level(rawValue: v) ?? .restricted
            }
            enforce = level("enforce")
            warn = level("warn")
            audit = level("audit")
        }
    }

    public init() {}

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        let resource = request.groupResource
        let isPod = resource == "pods"
        guard isPod || Self.templates[resource] != nil, let namespace = request.namespace,
              request.operation != .delete, request.subresource == nil else { return }
        if request.operation == .update, let old = request.oldObject, !Self.isSignificantUpdate(request.object, old: old, resource: resource) {
            return
        }
        guard let policy = await Self.policy(namespace: namespace, registry: registry),
              policy.enforce != .privileged || policy.warn != .privileged else { return }
        if isPod {
            let spec = request.object["spec"] ?? .null
            let metadata = request.object["metadata"]
            if let refusal = Self.message(spec: spec, metadata: metadata, level: policy.enforce, prefix: "violates") {
                throw APIError.forbidden(request.resource, request.name, refusal)
            }
            if let w = Self.message(spec: spec, metadata: metadata, level: policy.warn, prefix: "would violate") {
                request.warnings.append(w)
            }
            return
        }
        guard let path = Self.templates[resource], let template = request.object[path: path] else { return }
        var seen: Set<String> = []
        for level in [policy.enforce, policy.warn] {
            guard let w = Self.message(spec: template["spec"] ?? .null, metadata: template["metadata"], level: level,
                                       prefix: "would violate"), seen.insert(w).inserted else { continue }
            request.warnings.append(w)
        }
    }

    /// Whether an update changes anything the policy judges. For pods only images and seccomp
    /// annotations may change after create (and ephemeral containers may be added); for
    /// workloads the pod template.
    static func isSignificantUpdate(_ new: JSONValue, old: JSONValue, resource: String) -> Bool {
        guard resource == "pods" else {
            guard let path = templates[resource] else { return false }
            return new[path: path] != old[path: path]
        }
        func seccomp(_ o: JSONValue) -> [String: JSONValue] {
            (o[path: ["metadata", "annotations"]]?.objectValue ?? [:]).filter { $0.key.hasPrefix("seccomp.security.alpha.kubernetes.io/") }
        }
        if seccomp(new) != seccomp(old) { return true }
        for key in ["containers", "initContainers", "ephemeralContainers"] {
            let now = new[path: ["spec", key]]?.arrayValue ?? []
            let before = old[path: ["spec", key]]?.arrayValue ?? []
            if now.count != before.count { return true }
            for (a, b) in zip(now, before) where a["image"] != b["image"] || a["name"] != b["name"] { return true }
        }
        return false
    }

    /// `violates PodSecurity "restricted:latest": reason (detail), ...`, or nil when compliant.
    static func message(spec: JSONValue, metadata: JSONValue?, level: Level, prefix: String) -> String? {
        let violations = PodSecurityChecks.evaluate(spec: spec, metadata: metadata, level: level)
        guard !violations.isEmpty else { return nil }
        return "\(prefix) PodSecurity \"\(level.rawValue):latest\": " + violations.map(\.text).joined(separator: ", ")
    }

    /// The namespace's policy, or nil when the namespace is missing (the registry reports that).
    static func policy(namespace: String, registry: Registry) async -> Policy? {
        guard let found = try? await registry.admissionFind(registry.namespaces, namespace: nil, name: namespace) else { return nil }
        var labels: [String: String] = [:]
        for (k, v) in found[path: ["metadata", "labels"]]?.objectValue ?? [:] { labels[k] = v.stringValue ?? "" }
        return Policy(labels: labels)
    }
}
