import KubeModel

/// One node as the scheduler sees it: the Node object, parsed once, and the non-terminal pods
/// bound (or assumed) to it with their sums kept up to date as pods come and go, so that a
/// filter or score reads a node in constant time (Kubernetes' `NodeInfo`).
///
/// A value with its fields behind one reference, copied on write: placing one pod hands
/// thousands of nodes to the filters and scores, and Swift copies an element it passes out of
/// a collection. A copy is then one reference count instead of one per field.
struct NodeInfo: Sendable {
    private var storage: Storage

    var node: JSONValue { storage.node }
    var name: String { storage.name }
    var labels: [String: String] { storage.labels }
    var allocatable: [String: Int64] { storage.allocatable }
    var isReady: Bool { storage.isReady }
    var isUnschedulable: Bool { storage.isUnschedulable }
    var taints: [JSONValue] { storage.taints }
    /// Pods on the node by cache key.
    var podInfos: [String: PodInfo] { storage.podInfos }
    /// Sum of the pods' requests.
    var requested: [String: Int64] { storage.requested }
    /// Sums of the pods' cpu and memory with the non-zero defaults (scoring).
    var nonZeroCPU: Int64 { storage.nonZeroCPU }
    var nonZeroMemory: Int64 { storage.nonZeroMemory }
    /// Pods with required anti-affinity terms (they constrain every incoming pod).
    var podsWithAntiAffinity: Int { storage.podsWithAntiAffinity }

    /// A node holding `pods`.
    init(node: JSONValue, pods: [JSONValue] = []) {
        storage = Storage(name: node.name ?? "")
        setNode(node)
        for pod in pods { add(PodInfo(pod)) }
    }

    /// The pods' objects.
    var pods: [JSONValue] { podInfos.values.map(\.pod) }

    /// Replaces the Node object (same name), keeping the pods.
    mutating func setNode(_ node: JSONValue) {
        let s = unique()
        s.node = node
        s.labels = node.labels
        s.allocatable = SchedulingFilters.allocatable(node)
        s.isReady = SchedulingFilters.isReady(node)
        s.isUnschedulable = node[path: ["spec", "unschedulable"]]?.boolValue == true
        s.taints = node[path: ["spec", "taints"]]?.arrayValue ?? []
    }

    /// Adds `pod` (replacing a pod of the same key).
    mutating func add(_ pod: PodInfo) {
        remove(pod.key)
        let s = unique()
        s.podInfos[pod.key] = pod
        for (name, amount) in pod.requests { s.requested[name, default: 0] += amount }
        s.nonZeroCPU += pod.nonZeroCPU
        s.nonZeroMemory += pod.nonZeroMemory
        if !pod.antiAffinityTerms.isEmpty { s.podsWithAntiAffinity += 1 }
    }

    /// Removes the pod under `key`; answers whether it was there.
    @discardableResult
    mutating func remove(_ key: String) -> Bool {
        guard storage.podInfos[key] != nil else { return false }
        let s = unique()
        guard let pod = s.podInfos.removeValue(forKey: key) else { return false }
        for (name, amount) in pod.requests { s.requested[name, default: 0] -= amount }
        s.nonZeroCPU -= pod.nonZeroCPU
        s.nonZeroMemory -= pod.nonZeroMemory
        if !pod.antiAffinityTerms.isEmpty { s.podsWithAntiAffinity -= 1 }
        return true
    }

    /// Whether a pod asking for `port` would clash with a pod already on the node.
    func portInUse(_ port: HostPort) -> Bool {
        podInfos.values.contains { $0.hostPorts.contains { $0.conflicts(with: port) } }
    }

    /// The storage, copied first when another value shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// Mutated only through `unique()`, so never while another value can see it: that is
    /// what makes the unchecked `Sendable` sound, as for the standard library's own buffers.
    private final class Storage: @unchecked Sendable {
        var node: JSONValue = .null
        let name: String
        var labels: [String: String] = [:]
        var allocatable: [String: Int64] = [:]
        var isReady = false
        var isUnschedulable = false
        var taints: [JSONValue] = []
        var podInfos: [String: PodInfo] = [:]
        var requested: [String: Int64] = [:]
        var nonZeroCPU: Int64 = 0
        var nonZeroMemory: Int64 = 0
        var podsWithAntiAffinity = 0

        init(name: String) { self.name = name }

        func copy() -> Storage {
            let c = Storage(name: name)
            c.node = node
            c.labels = labels
            c.allocatable = allocatable
            c.isReady = isReady
            c.isUnschedulable = isUnschedulable
            c.taints = taints
            c.podInfos = podInfos
            c.requested = requested
            c.nonZeroCPU = nonZeroCPU
            c.nonZeroMemory = nonZeroMemory
            c.podsWithAntiAffinity = podsWithAntiAffinity
            return c
        }
    }
}
