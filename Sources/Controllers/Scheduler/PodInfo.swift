import KubeClient
import KubeModel

/// A pod as the scheduler reads it, parsed once: what the filters and scores ask of a pod
/// is computed when the pod enters the scheduler's cache or queue, not on every node.
struct PodInfo: Sendable {
    let pod: JSONValue
    let key: String
    let uid: String
    let namespace: String
    let labels: [String: String]
    /// Effective requests in scheduler units (`PodResources.requests`).
    let requests: [String: Int64]
    /// cpu (millicores) and memory with Kubernetes' non-zero defaults, for scoring.
    let nonZeroCPU: Int64
    let nonZeroMemory: Int64
    /// Required pod anti-affinity terms.
    let antiAffinityTerms: [JSONValue]
    /// Host ports the pod's containers ask for.
    let hostPorts: [HostPort]
    /// The uid of the pod's controller (same-owner spreading).
    let controllerUID: String?
    /// Requests with a positive amount, by resource name in order (the fit filter's order).
    let positiveRequests: [(name: String, amount: Int64)]
    /// `spec.nodeSelector`.
    let nodeSelector: [String: String]
    /// Required node affinity, when the pod has one.
    let requiredNodeAffinity: JSONValue?

    init(_ pod: JSONValue) {
        self.pod = pod
        key = ObjectCache.key(of: pod) ?? ""
        uid = pod.uid ?? ""
        namespace = pod.namespace ?? ""
        labels = pod.labels
        let requests = PodResources.requests(of: pod)
        self.requests = requests
        nonZeroCPU = requests["cpu"].flatMap { $0 > 0 ? $0 : nil } ?? SchedulingScore.defaultMilliCPU
        nonZeroMemory = requests["memory"].flatMap { $0 > 0 ? $0 : nil } ?? SchedulingScore.defaultMemory
        antiAffinityTerms = SchedulingFilters.antiAffinityTerms(pod)
        hostPorts = HostPort.requested(by: pod)
        controllerUID = ObjectRules.controllerRef(of: pod)?["uid"]?.stringValue
        positiveRequests = requests.keys.sorted().compactMap { name in
            requests[name].flatMap { $0 > 0 ? (name, $0) : nil }
        }
        nodeSelector = pod.stringMap(at: ["spec", "nodeSelector"])
        let affinity = pod[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]]
        requiredNodeAffinity = affinity?.isNull == false ? affinity : nil
    }

    /// Bound to a node and still holding its resources (not Succeeded or Failed).
    static func holdsNode(_ pod: JSONValue) -> String? {
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else { return nil }
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Succeeded" || phase == "Failed" ? nil : node
    }
}
