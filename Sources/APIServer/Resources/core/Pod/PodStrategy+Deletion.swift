import KubeModel

/// Graceful deletion: a pod bound to a node and still running gets its grace period for the
/// kubelet to stop it; any other pod goes at once.
extension PodStrategy {
    public func deletionGracePeriod(of object: JSONValue, options: DeleteOptions) -> Int64? {
        let phase = object[path: ["status", "phase"]]?.stringValue
        guard object[path: ["spec", "nodeName"]]?.stringValue?.isEmpty == false, phase != "Succeeded", phase != "Failed" else { return nil }
        let grace = max(0, options.gracePeriodSeconds ?? object[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30)
        return grace > 0 ? grace : nil
    }
}
