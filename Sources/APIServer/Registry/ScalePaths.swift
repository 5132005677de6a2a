import KubeModel

/// Where a kind keeps what its `scale` subresource shows: the desired and observed replica
/// counts and the pods' selector. Workloads use `spec.replicas`, `status.replicas` and the
/// label selector object at `spec.selector`; a custom resource names its own paths.
public struct ScalePaths: Sendable, Equatable {
    public enum Selector: Sendable, Equatable {
        /// A `LabelSelector` object, shown in its string form.
        case labelSelector([String])
        /// A selector already in string form (a custom resource's `labelSelectorPath`).
        case string([String])
        /// A plain label map, matched by equality (a ReplicationController's `spec.selector`).
        case labelMap([String])
        case none
    }

    public var specReplicas: [String]
    public var statusReplicas: [String]
    public var selector: Selector

    public init(specReplicas: [String], statusReplicas: [String], selector: Selector) {
        self.specReplicas = specReplicas
        self.statusReplicas = statusReplicas
        self.selector = selector
    }

    public static let workload = ScalePaths(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"],
                                            selector: .labelSelector(["spec", "selector"]))

    /// From a CustomResourceDefinition's `.spec.replicas`-style JSON paths.
    init(specReplicasPath: String, statusReplicasPath: String, labelSelectorPath: String?) {
        func segments(_ p: String) -> [String] { p.split(separator: ".").map(String.init) }
        self.init(specReplicas: segments(specReplicasPath), statusReplicas: segments(statusReplicasPath),
                  selector: labelSelectorPath.map { .string(segments($0)) } ?? .none)
    }
}
