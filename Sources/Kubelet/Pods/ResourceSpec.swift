import KubeModel

/// Limits from container specs, as the runtime enforces them.
enum ResourceSpec {
    /// Every pod gets a pids limit: one fork bomb must not take the node down.
    static let podPidsLimit: Int64 = 4096

    static func limits(_ container: JSONValue) -> ResourceLimits {
        let limits = container[path: ["resources", "limits"]]
        return ResourceLimits(memoryBytes: limits?["memory"]?.stringValue.flatMap(Quantity.parse).map(\.value),
                              cpuMillis: limits?["cpu"]?.stringValue.flatMap(Quantity.parse).map(\.milliValue),
                              pids: nil)
    }

    /// The pod's limits: the sum over app containers when every one sets it (else unlimited),
    /// and at least the largest init container's.
    static func podLimits(_ pod: JSONValue) -> ResourceLimits {
        let app = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).map(limits)
        let initial = (pod[path: ["spec", "initContainers"]]?.arrayValue ?? []).map(limits)
        func total(_ key: KeyPath<ResourceLimits, Int64?>) -> Int64? {
            let values = app.map { $0[keyPath: key] }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { return nil }
            let sum = values.reduce(0) { $0 + ($1 ?? 0) }
            let initMax = initial.compactMap { $0[keyPath: key] }.max() ?? 0
            return max(sum, initMax)
        }
        return ResourceLimits(memoryBytes: total(\.memoryBytes), cpuMillis: total(\.cpuMillis), pids: podPidsLimit)
    }
}
