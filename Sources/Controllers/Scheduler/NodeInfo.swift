import KubeModel

/// One node as the scheduler sees it: the Node object, parsed once, and the non-terminal pods
/// bound (or assumed) to it with their sums kept up to date as pods come and go, so that a
/// filter or score reads a node in constant time (Kubernetes' `NodeInfo`).
struct NodeInfo: Sendable {
    private(set) var node: JSONValue
    let name: String
    private(set) var labels: [String: String]
    private(set) var allocatable: [String: Int64]
    private(set) var isReady: Bool
    private(set) var isUnschedulable: Bool
    private(set) var taints: [JSONValue]
    /// Pods on the node by cache key.
    private(set) var podInfos: [String: PodInfo] = [:]
    /// Sum of the pods' requests.
    private(set) var requested: [String: Int64] = [:]
    /// Sums of the pods' cpu and memory with the non-zero defaults (scoring).
    private(set) var nonZeroCPU: Int64 = 0
    private(set) var nonZeroMemory: Int64 = 0
    /// Pods with required anti-affinity terms (they constrain every incoming pod).
    private(set) var podsWithAntiAffinity = 0

    /// A node holding `pods`.
    init(node: JSONValue, pods: [JSONValue] = []) {
        self.node = .null
        name = node.name ?? ""
        labels = [:]
        allocatable = [:]
        isReady = false
        isUnschedulable = false
        taints = []
        setNode(node)
        for pod in pods { add(PodInfo(pod)) }
    }

    /// The pods' objects.
    var pods: [JSONValue] { podInfos.values.map(\.pod) }

    /// Replaces the Node object (same name), keeping the pods.
    mutating func setNode(_ node: JSONValue) {
        self.node = node
        labels = node.labels
        allocatable = SchedulingFilters.allocatable(node)
        isReady = SchedulingFilters.isReady(node)
        isUnschedulable = node[path: ["spec", "unschedulable"]]?.boolValue == true
        taints = node[path: ["spec", "taints"]]?.arrayValue ?? []
    }

    /// Adds `pod` (replacing a pod of the same key).
    mutating func add(_ pod: PodInfo) {
        remove(pod.key)
        podInfos[pod.key] = pod
        for (name, amount) in pod.requests { requested[name, default: 0] += amount }
        nonZeroCPU += pod.nonZeroCPU
        nonZeroMemory += pod.nonZeroMemory
        if !pod.antiAffinityTerms.isEmpty { podsWithAntiAffinity += 1 }
    }

    /// Removes the pod under `key`; answers whether it was there.
    @discardableResult
    mutating func remove(_ key: String) -> Bool {
        guard let pod = podInfos.removeValue(forKey: key) else { return false }
        for (name, amount) in pod.requests { requested[name, default: 0] -= amount }
        nonZeroCPU -= pod.nonZeroCPU
        nonZeroMemory -= pod.nonZeroMemory
        if !pod.antiAffinityTerms.isEmpty { podsWithAntiAffinity -= 1 }
        return true
    }

    /// Whether a pod asking for `port` would clash with a pod already on the node.
    func portInUse(_ port: HostPort) -> Bool {
        podInfos.values.contains { $0.hostPorts.contains { $0.conflicts(with: port) } }
    }
}
