/// Accessors for the parts of a Kubernetes object every resource shares.
extension JSONValue {
    public var apiVersion: String? { self["apiVersion"]?.stringValue }
    public var kind: String? { self["kind"]?.stringValue }
    public var metadata: JSONValue { self["metadata"] ?? .object([:]) }
    public var name: String? { self[path: ["metadata", "name"]]?.stringValue }
    public var namespace: String? { self[path: ["metadata", "namespace"]]?.stringValue }
    public var resourceVersion: String? { self[path: ["metadata", "resourceVersion"]]?.stringValue }
    public var uid: String? { self[path: ["metadata", "uid"]]?.stringValue }

    /// Labels as a string map; non-string values are ignored (validation refuses them earlier).
    public var labels: [String: String] { stringMap(at: ["metadata", "labels"]) }
    public var annotations: [String: String] { stringMap(at: ["metadata", "annotations"]) }

    public func stringMap(at path: [String]) -> [String: String] {
        guard let o = self[path: path]?.objectValue else { return [:] }
        var out: [String: String] = [:]
        for (k, v) in o { if let s = v.stringValue { out[k] = s } }
        return out
    }

    public var finalizers: [String] {
        (self[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
    }
}
