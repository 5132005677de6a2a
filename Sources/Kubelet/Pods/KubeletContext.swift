import KubeClient
import KubeModel
import Logging

/// What every pod worker of one node shares: the API client, the runtime, the node's
/// directories and volume manager, and how it reports.
struct KubeletContext: Sendable {
    let nodeName: String
    let client: KubeRESTClient
    let runtime: any ContainerRuntime
    let paths: KubeletPaths
    let volumes: VolumeManager
    let objects: any ObjectSource
    let events: EventRecorder
    let hostIP: String
    /// `status.allocatable` of the node: what resourceFieldRef falls back to without limits.
    let nodeAllocatable: [String: String]
    /// The fake runtime: containers are started and ready at once, so no probes run, no
    /// volumes are prepared and no environment is resolved (thousands of pods stay cheap).
    let simulated: Bool
    /// How often a worker looks at its containers when nothing woke it.
    let syncInterval: Duration
    let logger: Logger
    /// Pods' /etc/resolv.conf and /etc/hosts (process runtime only).
    var podDNS: PodDNSFiles? = nil
    /// Only Warning events are recorded (a fleet of fake nodes).
    var quietNormalEvents = false

    func podContext(_ pod: JSONValue, podIP: String?) -> PodContext {
        PodContext(pod: pod, nodeName: nodeName, hostIP: hostIP, podIP: podIP ?? "", nodeAllocatable: nodeAllocatable)
    }

    func record(_ pod: JSONValue, _ type: String = "Normal", _ reason: String, _ message: String, container: ContainerSlot? = nil) async {
        if quietNormalEvents && type == "Normal" { return }
        let fieldPath = container.map { "spec.\($0.isInit ? "initContainers" : "containers"){\($0.name)}" }
        await events.record(pod, apiVersion: "v1", kind: "Pod", type: type, reason: reason, message: message, fieldPath: fieldPath)
    }
}
