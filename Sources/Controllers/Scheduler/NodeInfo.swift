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
    /// Pods with required anti-affinity terms (they constrain every incoming pod). Kept
    /// beside the reference, not behind it: every pod's pre-filter asks it of every node, and
    /// reading it from the array itself spares a cache miss per node.
    private(set) var podsWithAntiAffinity = 0

    var node: JSONValue { storage.fields.node }
    var name: String { storage.fields.name }
    var labels: [String: String] { storage.fields.labels }
    var allocatable: [String: Int64] { storage.fields.allocatable }
    var isReady: Bool { storage.fields.isReady }
    var isUnschedulable: Bool { storage.fields.isUnschedulable }
    var taints: [JSONValue] { storage.fields.taints }
    /// Pods on the node by cache key.
    var podInfos: [String: PodInfo] { storage.fields.podInfos }
    /// Sum of the pods' requests.
    var requested: [String: Int64] { storage.fields.requested }
    /// Sums of the pods' cpu and memory with the non-zero defaults (scoring).
    var nonZeroCPU: Int64 { storage.fields.nonZeroCPU }
    var nonZeroMemory: Int64 { storage.fields.nonZeroMemory }

    /// A node holding `pods`.
    init(node: JSONValue, pods: [JSONValue] = []) {
        storage = Storage(Fields(name: node.name ?? ""))
        setNode(node)
        for pod in pods { add(PodInfo(pod)) }
    }

    /// The pods' objects.
    var pods: [JSONValue] { podInfos.values.map(\.pod) }

    /// Replaces the Node object (same name), keeping the pods.
    mutating func setNode(_ node: JSONValue) {
        let s = unique()
        s.fields.node = node
        s.fields.labels = node.labels
        s.fields.allocatable = SchedulingFilters.allocatable(node)
        s.fields.isReady = SchedulingFilters.isReady(node)
        s.fields.isUnschedulable = node[path: ["spec", "unschedulable"]]?.boolValue == true
        s.fields.taints = node[path: ["spec", "taints"]]?.arrayValue ?? []
    }

    /// Adds `pod` (replacing a pod of the same key).
    mutating func add(_ pod: PodInfo) {
        remove(pod.key)
        let s = unique()
        s.fields.podInfos[pod.key] = pod
        for (name, amount) in pod.requests { s.fields.requested[name, default: 0] += amount }
        s.fields.nonZeroCPU += pod.nonZeroCPU
        s.fields.nonZeroMemory += pod.nonZeroMemory
        if !pod.antiAffinityTerms.isEmpty { podsWithAntiAffinity += 1 }
    }

    /// Removes the pod under `key`; answers whether it was there.
    @discardableResult
    mutating func remove(_ key: String) -> Bool {
        guard storage.fields.podInfos[key] != nil else { return false }
        let s = unique()
        guard let pod = s.fields.podInfos.removeValue(forKey: key) else { return false }
        for (name, amount) in pod.requests { s.fields.requested[name, default: 0] -= amount }
        s.fields.nonZeroCPU -= pod.nonZeroCPU
        s.fields.nonZeroMemory -= pod.nonZeroMemory
        if !pod.antiAffinityTerms.isEmpty { podsWithAntiAffinity -= 1 }
        return true
    }

    /// Whether a pod asking for `port` would clash with a pod already on the node.
    func portInUse(_ port: HostPort) -> Bool {
        podInfos.values.contains { $0.hostPorts.contains { $0.conflicts(with: port) } }
    }

    /// The storage, copied first when another value shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
        return storage
    }

    private struct Fields {
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
    }

    /// Mutated only through `unique()`, so never while another value can see it: that is
    /// what makes the unchecked `Sendable` sound, as for the standard library's own buffers.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }
}
