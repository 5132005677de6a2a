import KubeModel

/// The kinds the replicaset controller keeps replicas for: apps/v1 ReplicaSets and their
/// older form, v1 ReplicationControllers (an equality selector; `ObjectRules.selector` reads both).
struct ReplicaOwnerKind: Sendable {
    let resource: ResourcePath
    let apiVersion: String
    let kind: String
    /// The controller's name in logs and its events' source.
    let controllerName: String

    static let replicaSet = ReplicaOwnerKind(resource: ResourcePath(group: "apps", version: "v1", plural: "replicasets"),
                                             apiVersion: "apps/v1", kind: "ReplicaSet", controllerName: "replicaset")
    static let replicationController = ReplicaOwnerKind(resource: .core("replicationcontrollers"), apiVersion: "v1",
                                                        kind: "ReplicationController", controllerName: "replicationcontroller")
}
