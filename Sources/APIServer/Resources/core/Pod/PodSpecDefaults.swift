import KubeModel

/// Kubernetes' defaulting of a PodSpec (`pkg/apis/core/v1/defaults.go`), shared by Pods and
/// the pod templates of Deployments and ReplicaSets.
enum PodSpecDefaults {
    typealias K = ResourceKit

    /// Volume source fields; a volume with none of them becomes an `emptyDir`.
    static let volumeSources: Set<String> = [
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
        "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI",
        "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
        "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
    ]

    /// Defaults every PodSpec gets, in a Pod or a template.
    static func apply(to spec: inout JSONValue) {
        guard spec.objectValue != nil else { return }
        K.fill(&spec, "dnsPolicy", "ClusterFirst")
        K.fill(&spec, "restartPolicy", "Always")
        K.fill(&spec, "terminationGracePeriodSeconds", 30)
        K.fill(&spec, "securityContext", .object([:]))
        K.fill(&spec, "schedulerName", "default-scheduler")
        // v1 mirrors the deprecated `serviceAccount` field and `serviceAccountName`.
        let saName = K.string(spec["serviceAccountName"])
        let saOld = K.string(spec["serviceAccount"])
        if saName.isEmpty && !saOld.isEmpty { spec["serviceAccountName"] = .string(saOld) }
        if let n = spec["serviceAccountName"]?.stringValue, !n.isEmpty { spec["serviceAccount"] = .string(n) }

        let hostNetwork = spec["hostNetwork"]?.boolValue ?? false
        for key in ["initContainers", "containers", "ephemeralContainers"] {
            K.eachElement(&spec, key) { applyContainer(&$0, hostNetwork: hostNetwork) }
        }
        K.eachElement(&spec, "volumes") { applyVolume(&$0) }
    }

    /// `SetDefaults_Pod`: defaults only a Pod gets, not a template.
    static func applyPodOnly(to pod: inout JSONValue) {
        guard var spec = pod["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "enableServiceLinks", true)
        // If limits are set but requests are not, requests default to the limits.
        for key in ["initContainers", "containers"] {
            K.eachElement(&spec, key) { c in
                guard let limits = c[path: ["resources", "limits"]]?.objectValue, !limits.isEmpty else { return }
                var requests = c[path: ["resources", "requests"]]?.objectValue ?? [:]
                // Unparseable limits are left for validation to report once.
                for (name, q) in limits where requests[name] == nil && Quantity.parse(q.stringValue ?? q.intValue.map(String.init) ?? "") != nil {
                    requests[name] = q
                }
                if !requests.isEmpty { c[path: ["resources", "requests"]] = .object(requests) }
            }
        }
        pod["spec"] = spec
    }

    static func applyContainer(_ c: inout JSONValue, hostNetwork: Bool) {
        if c["imagePullPolicy"]?.stringValue?.isEmpty ?? true {
            let image = K.string(c["image"])
            c["imagePullPolicy"] = .string(!image.isEmpty && imageTag(image) == "latest" ? "Always" : "IfNotPresent")
        }
        K.fill(&c, "terminationMessagePath", "/dev/termination-log")
        K.fill(&c, "terminationMessagePolicy", "File")
        K.fill(&c, "resources", .object([:]))
        K.eachElement(&c, "ports") { p in
            K.fill(&p, "protocol", "TCP")
            if hostNetwork, p["hostPort"] == nil, let cp = p["containerPort"] { p["hostPort"] = cp }
        }
        K.eachElement(&c, "env") { e in
            K.withChild(&e, "valueFrom") { vf in K.withChild(&vf, "fieldRef") { K.fill(&$0, "apiVersion", "v1") } }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            K.withChild(&c, probe) { p in
                K.fill(&p, "timeoutSeconds", 1)
                K.fill(&p, "periodSeconds", 10)
                K.fill(&p, "successThreshold", 1)
                K.fill(&p, "failureThreshold", 3)
                K.withChild(&p, "httpGet") { applyHTTPGet(&$0) }
            }
        }
        K.withChild(&c, "lifecycle") { l in
            for hook in ["postStart", "preStop"] {
                K.withChild(&l, hook) { h in K.withChild(&h, "httpGet") { applyHTTPGet(&$0) } }
            }
        }
    }

    static func applyHTTPGet(_ h: inout JSONValue) {
        if h["path"]?.stringValue?.isEmpty ?? true { h["path"] = "/" }
        K.fill(&h, "scheme", "HTTP")
    }

    static func applyVolume(_ v: inout JSONValue) {
        let keys = Set((v.objectValue ?? [:]).filter { !$0.value.isNull }.keys)
        if keys.isDisjoint(with: volumeSources) { v["emptyDir"] = .object([:]) }
        for source in ["secret", "configMap", "downwardAPI", "projected"] {
            K.withChild(&v, source) { K.fill(&$0, "defaultMode", 420) }
        }
        K.withChild(&v, "hostPath") { K.fill(&$0, "type", "") }
        K.withChild(&v, "downwardAPI") { d in
            K.eachElement(&d, "items") { i in K.withChild(&i, "fieldRef") { K.fill(&$0, "apiVersion", "v1") } }
        }
        K.withChild(&v, "projected") { p in
            K.eachElement(&p, "sources") { s in
                K.withChild(&s, "serviceAccountToken") { K.fill(&$0, "expirationSeconds", 3600) }
                K.withChild(&s, "downwardAPI") { d in
                    K.eachElement(&d, "items") { i in K.withChild(&i, "fieldRef") { K.fill(&$0, "apiVersion", "v1") } }
                }
            }
        }
        K.withChild(&v, "iscsi") { K.fill(&$0, "iscsiInterface", "default") }
    }

    /// The tag of an image reference, `latest` when it has neither tag nor digest
    /// (as `parsers.ParseImageName`); empty for digest-only references.
    static func imageTag(_ image: String) -> String {
        var ref = Substring(image)
        var hasDigest = false
        if let at = ref.firstIndex(of: "@") { ref = ref[..<at]; hasDigest = true }
        let lastComponent = ref.split(separator: "/", omittingEmptySubsequences: false).last ?? ref
        if let colon = lastComponent.lastIndex(of: ":") {
            return String(lastComponent[lastComponent.index(after: colon)...])
        }
        return hasDigest ? "" : "latest"
    }
}
