import Foundation
import KubeModel

/// Kubernetes' bootstrap RBAC policy, trimmed to what Caravel serves: the user-facing
/// roles (cluster-admin, admin, edit, view, built by aggregation as in Kubernetes), the
/// discovery roles every authenticated user holds, and the roles of our own components.
/// Created at start when missing; existing objects are left alone so edits survive.
enum DefaultRoles {
    static let group = "rbac.authorization.k8s.io"
    static let readVerbs = ["get", "list", "watch"]
    static let writeVerbs = ["create", "delete", "deletecollection", "patch", "update"]

    static func rule(_ verbs: [String], _ groups: [String], _ resources: [String]) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources)
    }

    static func clusterRole(_ name: String, rules: [PolicyRule], labels: [String: String] = [:],
                            aggregateFrom: String? = nil) -> JSONValue {
        var l: [String: JSONValue] = ["kubernetes.io/bootstrapping": "rbac-defaults"]
        for (k, v) in labels { l[k] = .string(v) }
        var o: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": .string(name), "labels": .object(l),
                         "annotations": ["rbac.authorization.kubernetes.io/autoupdate": "true"]],
            "rules": .array(rules.map(\.json)),
        ]
        if let aggregateFrom {
            o["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": .object([aggregateFrom: "true"])]]]
        }
        return o
    }

    static func binding(_ name: String, role: String, subjects: [(kind: String, name: String)]) -> JSONValue {
        [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": ["name": .string(name), "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"],
                         "annotations": ["rbac.authorization.kubernetes.io/autoupdate": "true"]],
            "roleRef": ["apiGroup": .string(group), "kind": "ClusterRole", "name": .string(role)],
            "subjects": .array(subjects.map { ["apiGroup": .string(group), "kind": .string($0.kind), "name": .string($0.name)] }),
        ]
    }

    static let aggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
    static let aggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit"
    static let aggregateToView = "rbac.authorization.k8s.io/aggregate-to-view"

    /// Namespaced things a viewer may read (Secrets excluded, as in Kubernetes).
    static let viewable: [(String, [String])] = [
        ("", ["pods", "pods/log", "pods/status", "configmaps", "endpoints", "services", "services/status",
              "serviceaccounts", "events", "namespaces", "namespaces/status", "persistentvolumeclaims",
              "replicationcontrollers", "replicationcontrollers/status", "replicationcontrollers/scale",
              "resourcequotas", "resourcequotas/status", "limitranges"]),
        ("apps", ["deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status",
                  "replicasets/scale", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets",
                  "daemonsets/status", "controllerrevisions"]),
        ("batch", ["jobs", "jobs/status", "cronjobs", "cronjobs/status"]),
        ("autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        ("policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        ("networking.k8s.io", ["networkpolicies"]),
        ("discovery.k8s.io", ["endpointslices"]),
        ("events.k8s.io", ["events"]),
    ]

    /// Namespaced things an editor may write.
    static let editable: [(String, [String])] = [
        ("", ["pods", "pods/eviction", "configmaps", "secrets", "endpoints", "services", "serviceaccounts",
              "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale"]),
        ("apps", ["deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale",
                  "daemonsets"]),
        ("batch", ["jobs", "cronjobs"]),
        ("autoscaling", ["horizontalpodautoscalers"]),
        ("policy", ["poddisruptionbudgets"]),
        ("networking.k8s.io", ["networkpolicies"]),
        ("discovery.k8s.io", ["endpointslices"]),
    ]

    /// Every ClusterRole created at bootstrap.
    static var clusterRoles: [JSONValue] {
        let all = ["*"]
        return [
            clusterRole("cluster-admin", rules: [rule(all, all, all), PolicyRule(verbs: all, nonResourceURLs: all)]),
            clusterRole("admin", rules: [], aggregateFrom: aggregateToAdmin),
            clusterRole("edit", rules: [], labels: [aggregateToAdmin: "true"], aggregateFrom: aggregateToEdit),
            clusterRole("view", rules: [], labels: [aggregateToEdit: "true"], aggregateFrom: aggregateToView),
            clusterRole("system:aggregate-to-admin", rules: [
                rule(writeVerbs + readVerbs, [group], ["roles", "rolebindings"]),
                rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
            ], labels: [aggregateToAdmin: "true"]),
            clusterRole("system:aggregate-to-edit", rules: editable.map { rule(writeVerbs + readVerbs, [$0.0], $0.1) } + [
                rule(["get", "list", "watch"], [""], ["secrets"]),
                rule(["impersonate"], [""], ["serviceaccounts"]),
            ], labels: [aggregateToEdit: "true"]),
            clusterRole("system:aggregate-to-view", rules: viewable.map { rule(readVerbs, [$0.0], $0.1) },
                        labels: [aggregateToView: "true"]),
            // As metrics-server installs it: viewers (and so editors and admins) see `kubectl top`.
            clusterRole("system:aggregated-metrics-reader", rules: [rule(readVerbs, ["metrics.k8s.io"], ["pods", "nodes"])],
                        labels: [aggregateToView: "true", aggregateToEdit: "true", aggregateToAdmin: "true"]),
            clusterRole("system:discovery", rules: [
                PolicyRule(verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                                             "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]),
            ]),
            clusterRole("system:basic-user", rules: [
                rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
            ]),
            clusterRole("system:public-info-viewer", rules: [
                PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"]),
            ]),
            clusterRole("system:kube-controller-manager", rules: controllerManagerRules),
            clusterRole("system:kube-scheduler", rules: schedulerRules),
            clusterRole("system:node", rules: nodeRules),
        ] + certificateRoles
    }

    static let certificatesGroup = "certificates.k8s.io"
    static let csrApproverRoles = (new: "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                                   renew: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient")

    /// Joining kubelets (bootstrap tokens) may ask for a certificate; the approver grants new
    /// node certificates to whoever may create `nodeclient`, renewals to `selfnodeclient`.
    static var certificateRoles: [JSONValue] {
        [
            clusterRole("system:node-bootstrapper", rules: [
                rule(["create", "get", "list", "watch"], [certificatesGroup], ["certificatesigningrequests"]),
            ]),
            clusterRole(csrApproverRoles.new, rules: [rule(["create"], [certificatesGroup], ["certificatesigningrequests/nodeclient"])]),
            clusterRole(csrApproverRoles.renew, rules: [rule(["create"], [certificatesGroup], ["certificatesigningrequests/selfnodeclient"])]),
        ]
    }

    /// What Sources/Controllers does: informers read every kind they follow (the garbage
    /// collector follows owners of any kind); the ReplicaSet, Deployment and garbage collector
    /// controllers write pods, replicasets and deployments; the namespace controller empties a
    /// terminating namespace of every kind; leader election holds a Lease; events are recorded.
    static let controllerManagerRules: [PolicyRule] = [
        rule(readVerbs, ["*"], ["*"]),
        rule(["delete", "deletecollection"], ["*"], ["*"]),
        // The garbage collector drops finalizers and ownerReferences of objects of any kind,
        // custom resources included (as Kubernetes' generic-garbage-collector role may); it
        // only ever patches.
        rule(["patch"], ["*"], ["*"]),
        rule(["create", "delete", "patch", "update"], [""], ["pods"]),
        rule(["patch", "update"], [""], ["pods/status", "pods/finalizers"]),
        rule(["create", "delete", "patch", "update"], ["apps"], ["replicasets", "deployments", "controllerrevisions"]),
        rule(["patch", "update"], ["apps"], ["replicasets/status", "deployments/status", "replicasets/finalizers",
                                             "deployments/finalizers", "replicasets/scale", "deployments/scale",
                                             "daemonsets/status", "daemonsets/finalizers", "statefulsets/status",
                                             "statefulsets/finalizers"]),
        rule(["patch", "update"], [""], ["replicationcontrollers/status", "replicationcontrollers/finalizers"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        // The job, cronjob and ttl-after-finished controllers.
        rule(["create", "delete", "patch", "update"], ["batch"], ["jobs", "cronjobs"]),
        rule(["patch", "update"], ["batch"], ["jobs/status", "cronjobs/status", "jobs/finalizers", "cronjobs/finalizers"]),
        rule(["create", "delete", "patch", "update"], [""], ["endpoints"]),
        rule(["create", "delete", "patch", "update"], ["discovery.k8s.io"], ["endpointslices"]),
        rule(["create", "get", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
        rule(["patch", "update"], [""], ["nodes", "nodes/status"]),
        rule(["delete"], [""], ["nodes"]),
        rule(["delete", "update"], [""], ["namespaces", "namespaces/finalize", "namespaces/status"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        rule(["update", "patch"], [""], ["resourcequotas/status"]),
        // The ServiceAccount controller and the root CA publisher.
        rule(["create", "update"], [""], ["serviceaccounts", "configmaps"]),
        // The CSR approver and signer.
        rule(["update", "patch"], [certificatesGroup], ["certificatesigningrequests/approval", "certificatesigningrequests/status"]),
        rule(["approve", "sign"], [certificatesGroup], ["signers"]),
        // The clusterrole-aggregation controller writes rules it need not hold itself.
        rule(["escalate", "update"], [group], ["clusterroles"]),
        // The horizontal pod autoscaler (Kubernetes' system:controller:horizontal-pod-autoscaler):
        // its status, any target's scale, and the resource, custom and external metrics APIs.
        rule(["update"], ["autoscaling"], ["horizontalpodautoscalers/status"]),
        rule(["get", "update"], ["*"], ["*/scale"]),
        rule(["list"], ["metrics.k8s.io"], ["pods"]),
        rule(["get", "list"], ["custom.metrics.k8s.io", "external.metrics.k8s.io"], ["*"]),
        // The PersistentVolume controller and the local-path provisioner bind and provision.
        rule(["create", "delete", "patch", "update"], [""], ["persistentvolumes", "persistentvolumeclaims"]),
        rule(["patch", "update"], [""], ["persistentvolumes/status", "persistentvolumeclaims/status"]),
        // The disruption controller keeps PodDisruptionBudget status.
        rule(["update"], ["policy"], ["poddisruptionbudgets/status"]),
    ]

    /// kube-scheduler's needs: read pods, nodes and namespaces; bind pods; report status.
    static let schedulerRules: [PolicyRule] = [
        rule(readVerbs, [""], ["pods", "nodes", "namespaces", "services", "persistentvolumeclaims", "persistentvolumes"]),
        rule(["create"], [""], ["pods/binding", "bindings"]),
        rule(["patch", "update"], [""], ["persistentvolumeclaims"]),
        rule(["patch", "update"], [""], ["pods/status"]),
        rule(["delete"], [""], ["pods"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        rule(["create", "get", "update"], ["coordination.k8s.io"], ["leases"]),
    ]

    /// A kubelet's needs. Broad on purpose: the node authorizer, consulted first, narrows
    /// node identities to their own Node, Lease, pods and the Secrets/ConfigMaps those pods use,
    /// and its denials are final for those kinds.
    static let nodeRules: [PolicyRule] = [
        rule(["get", "list", "watch", "create", "update", "patch"], [""], ["nodes", "nodes/status"]),
        rule(readVerbs, [""], ["pods"]),
        rule(["create", "delete"], [""], ["pods"]),
        rule(["update", "patch"], [""], ["pods/status"]),
        rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        rule(readVerbs, [""], ["secrets", "configmaps", "services", "endpoints"]),
        // NetworkPolicy enforcement reads policies and the namespaces' labels.
        rule(readVerbs, [""], ["namespaces"]),
        rule(readVerbs, ["networking.k8s.io"], ["networkpolicies"]),
        // The node DNS server and the service proxy (inside the kubelet, under its identity:
        // kube-proxy's system:node-proxier grants the same reads) follow EndpointSlices.
        rule(readVerbs, ["discovery.k8s.io"], ["endpointslices"]),
        rule(["get", "create", "update"], ["coordination.k8s.io"], ["leases"]),
        // Certificate renewal.
        rule(["create", "get", "list", "watch"], [certificatesGroup], ["certificatesigningrequests"]),
    ]

    /// Every ClusterRoleBinding created at bootstrap.
    static var clusterRoleBindings: [JSONValue] {
        [
            binding("cluster-admin", role: "cluster-admin", subjects: [("Group", "system:masters")]),
            binding("system:discovery", role: "system:discovery", subjects: [("Group", "system:authenticated")]),
            binding("system:basic-user", role: "system:basic-user", subjects: [("Group", "system:authenticated")]),
            binding("system:public-info-viewer", role: "system:public-info-viewer",
                    subjects: [("Group", "system:authenticated"), ("Group", "system:unauthenticated")]),
            binding("system:kube-controller-manager", role: "system:kube-controller-manager",
                    subjects: [("User", "system:kube-controller-manager")]),
            // The scheduler runs inside the controller manager, under its identity, for now.
            binding("system:kube-scheduler", role: "system:kube-scheduler",
                    subjects: [("User", "system:kube-scheduler"), ("User", "system:kube-controller-manager")]),
            // Kubernetes leaves this binding empty and relies on the node authorizer alone;
            // here both apply, the node authorizer first (see NodeAuthorizer).
            binding("system:node", role: "system:node", subjects: [("Group", "system:nodes")]),
            binding("caravel:kubelet-bootstrap", role: "system:node-bootstrapper", subjects: [("Group", BootstrapToken.group)]),
            binding("caravel:node-autoapprove-bootstrap", role: csrApproverRoles.new, subjects: [("Group", BootstrapToken.group)]),
            binding("caravel:node-autoapprove-certificate-rotation", role: csrApproverRoles.renew, subjects: [("Group", "system:nodes")]),
        ]
    }

    /// Creates the default roles and bindings that do not exist yet; a no-op when the RBAC
    /// kinds are not served.
    static func ensure(_ registry: Registry) async throws {
        guard let roles = registry.catalog.strategy(group: group, plural: "clusterroles"),
              let bindings = registry.catalog.strategy(group: group, plural: "clusterrolebindings") else { return }
        for (strategy, objects) in [(roles, clusterRoles), (bindings, clusterRoleBindings)] {
            for body in objects {
                do {
                    _ = try await registry.create(strategy, version: "v1", namespace: nil, body: body, options: WriteOptions())
                } catch {
                    if error.code != 409 { throw error }
                    try await reconcile(body, strategy: strategy, registry: registry)
                }
            }
        }
    }

    /// As Kubernetes at start-up: an existing default role or binding not opted out with
    /// `rbac.authorization.kubernetes.io/autoupdate: "false"` gets the rules (or subjects) a
    /// newer version added, so an old data dir does not leave new components forbidden.
    /// Nothing is taken away; aggregated roles' rules are the aggregation controller's.
    static func reconcile(_ desired: JSONValue, strategy: any ResourceStrategy, registry: Registry) async throws {
        guard let name = desired.name else { return }
        var current = try await registry.get(strategy, version: "v1", namespace: nil, name: name)
        if current.annotations["rbac.authorization.kubernetes.io/autoupdate"] == "false" { return }
        let key = desired["rules"] != nil ? "rules" : "subjects"
        if key == "rules" && desired["aggregationRule"] != nil { return }
        let have = current[key]?.arrayValue ?? []
        let missing = (desired[key]?.arrayValue ?? []).filter { !have.contains($0) }
        guard !missing.isEmpty else { return }
        current[key] = .array(have + missing)
        _ = try await registry.update(strategy, version: "v1", namespace: nil, name: name, body: current, target: .main,
                                      options: WriteOptions())
    }
}
