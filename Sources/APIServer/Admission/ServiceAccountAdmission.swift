import Foundation
import KubeModel

/// The ServiceAccount admission plugin, for pods: names the account (`default` unless given),
/// refuses an account that does not exist, and mounts a projected token volume
/// (`kube-api-access-xxxxx`: a bound token, the cluster CA, the namespace) into every
/// container at /var/run/secrets/kubernetes.io/serviceaccount, unless automounting is off.
///
/// Without a controller manager (`--disable-controllers`) nothing would create the `default`
/// account nor the `kube-root-ca.crt` ConfigMap the volume reads, and every pod would be
/// refused or stuck. So the plugin creates both itself, lazily, the first time a pod in a
/// namespace needs them; the ServiceAccount controller and the root CA publisher do the same
/// eagerly (and repair deletions) when controllers run.
public struct ServiceAccountAdmission: AdmissionPlugin {
    public let name = "ServiceAccount"
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    static let rootCAConfigMap = "kube-root-ca.crt"
    /// Kubernetes' projected token lifetime: 1h plus 7s, so a token is told apart from a requested one.
    static let tokenExpirationSeconds: Int64 = 3607

    /// Where the cluster CA certificate is, for the lazily created `kube-root-ca.crt`; nil when
    /// the server has none (`--tls=false`), which also leaves pods without the token volume.
    let caCertificatePath: String?
    let randomSuffix: @Sendable () -> String
    /// The CA file's text, read on the first pod that needs it: the server's CA does not
    /// change while it runs, and a pod create should not open a file.
    private let caText = Locked<String?>(nil)
    /// Namespaces whose `kube-root-ca.crt` was seen lately: a burst of pod creates checks the
    /// store once per namespace every `rootCARecheck`, not once per pod.
    private let rootCASeen = ExpiringTable<String, Bool>(capacity: 4096)
    static let rootCARecheck: TimeInterval = 10
    let clock: @Sendable () -> Date

    public init(caCertificatePath: String?) {
        self.init(caCertificatePath: caCertificatePath, randomSuffix: { ObjectMetaRules.generatedName("") })
    }

    init(caCertificatePath: String?, randomSuffix: @escaping @Sendable () -> String,
         clock: @escaping @Sendable () -> Date = { Date() }) {
        self.caCertificatePath = caCertificatePath
        self.randomSuffix = randomSuffix
        self.clock = clock
    }

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        // Creates only, as Kubernetes: a pod's account and volumes are fixed once it exists.
        guard request.operation == .create, request.groupResource == "pods", let ns = request.namespace,
              let saStrategy = registry.catalog.strategy(group: "", plural: "serviceaccounts") else { return }
        var pod = request.object
        // Mirror pods (static pods of a kubelet) get no account, as in Kubernetes.
        if pod[path: ["metadata", "annotations", "kubernetes.io/config.mirror"]] != nil { return }
        let given = pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? pod[path: ["spec", "serviceAccount"]]?.stringValue ?? ""
        let saName = given.isEmpty ? "default" : given
        pod[path: ["spec", "serviceAccountName"]] = .string(saName)
        pod[path: ["spec", "serviceAccount"]] = .string(saName)

        guard let sa = try await Self.serviceAccount(ns, saName, strategy: saStrategy, registry: registry, dryRun: request.dryRun) else {
            throw APIError.forbidden(request.resource, request.name,
                                     "error looking up service account \(ns)/\(saName): serviceaccount \"\(saName)\" not found")
        }
        let automount = pod[path: ["spec", "automountServiceAccountToken"]]?.boolValue
            ?? sa["automountServiceAccountToken"]?.boolValue ?? true
        if automount, let ca = caPEM() {
            if Self.injectTokenVolume(into: &pod, volumeName: "kube-api-access-" + randomSuffix()), !request.dryRun {
                try await ensureRootCA(ns, pem: ca, registry: registry)
            }
        }
        request.object = pod
    }

    /// Adds the token volume and its mount to each container (init ones too) not already
    /// mounting the path; true when some container got it.
    static func injectTokenVolume(into pod: inout JSONValue, volumeName: String) -> Bool {
        var used = false
        for kind in ["initContainers", "containers"] {
            guard var list = pod[path: ["spec", kind]]?.arrayValue else { continue }
            for i in list.indices {
                var mounts = list[i]["volumeMounts"]?.arrayValue ?? []
                if mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) { continue }
                mounts.append(["name": .string(volumeName), "readOnly": true, "mountPath": .string(mountPath)])
                list[i]["volumeMounts"] = .array(mounts)
                used = true
            }
            pod[path: ["spec", kind]] = .array(list)
        }
        guard used else { return false }
        var volumes = pod[path: ["spec", "volumes"]]?.arrayValue ?? []
        volumes.append(tokenVolume(volumeName))
        pod[path: ["spec", "volumes"]] = .array(volumes)
        return true
    }

    static func tokenVolume(_ name: String) -> JSONValue {
        let sources: [JSONValue] = [
            ["serviceAccountToken": ["expirationSeconds": .int(tokenExpirationSeconds), "path": "token"]],
            ["configMap": ["name": .string(rootCAConfigMap), "items": [["key": "ca.crt", "path": "ca.crt"]]]],
            ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
        ]
        return ["name": .string(name), "projected": ["defaultMode": 0o644, "sources": .array(sources)]]
    }

    // MARK: - lookups and lazy creation

    /// The account, creating `default` when missing (see the type's comment). A namespace
    /// that does not exist is left for the create's own namespace check to report.
    static func serviceAccount(_ ns: String, _ name: String, strategy: any ResourceStrategy, registry: Registry,
                               dryRun: Bool) async throws(APIError) -> JSONValue? {
        if let found = try? await registry.admissionFind(strategy, namespace: ns, name: name) { return found }
        guard name == "default" else { return nil }
        guard !dryRun else { return ["metadata": ["name": "default", "namespace": .string(ns)]] }
        let body: JSONValue = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"]]
        do {
            return try await registry.create(strategy, version: "v1", namespace: ns, body: body, options: WriteOptions()).object
        } catch where error.code == 409 {
            return try? await registry.find(strategy, namespace: ns, name: name)
        } catch where error.code == 404 || error.code == 403 {
            // Missing or terminating namespace: the pod's create fails on that check next.
            return ["metadata": ["name": "default", "namespace": .string(ns)]]
        }
    }

    private func caPEM() -> String? {
        if let cached = caText.value { return cached }
        guard let path = caCertificatePath, let pem = try? String(contentsOfFile: path, encoding: .utf8), !pem.isEmpty else { return nil }
        caText.value = pem
        return pem
    }

    /// Creates the namespace's `kube-root-ca.crt` when missing. Once seen, a namespace is not
    /// checked again for `rootCARecheck`: a ConfigMap deleted meanwhile is made again by the
    /// root CA publisher, or by the first pod after that.
    private func ensureRootCA(_ ns: String, pem: String, registry: Registry) async throws(APIError) {
        let now = clock()
        guard let cms = registry.catalog.strategy(group: "", plural: "configmaps"), rootCASeen.lookup(ns, now: now) == nil else { return }
        let seen = { rootCASeen.insert(ns, true, until: now.addingTimeInterval(Self.rootCARecheck), now: now) }
        if (try? await registry.find(cms, namespace: ns, name: Self.rootCAConfigMap)) != nil {
            seen()
            return
        }
        let body: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(Self.rootCAConfigMap)],
                               "data": ["ca.crt": .string(pem)]]
        do {
            _ = try await registry.create(cms, version: "v1", namespace: ns, body: body, options: WriteOptions())
            seen()
        } catch where [409, 404, 403].contains(error.code) {
            // Someone else made it, or the namespace check will refuse the pod anyway.
        }
    }
}
