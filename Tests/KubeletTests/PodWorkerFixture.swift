import Foundation
import class KubeClient.KubeRESTClient
import struct KubeClient.EventRecorder
import Logging
@testable import Kubelet

/// The context a pod worker under test runs in: one node, the given client and runtime, a
/// kubelet root of its own.
enum PodWorkerFixture {
    static func context(client: KubeRESTClient, runtime: any ContainerRuntime, root: String, simulated: Bool) -> KubeletContext {
        let paths = KubeletPaths(root: root)
        let objects = RESTObjectSource(client: client)
        return KubeletContext(
            nodeName: "node-a", client: client, runtime: runtime, paths: paths,
            volumes: VolumeManager(paths: paths, source: objects, logger: Logger(label: "test")), objects: objects,
            events: EventRecorder(client: client, component: "kubelet"), hostIP: "127.0.0.1",
            nodeAllocatable: [:], simulated: simulated, syncInterval: .seconds(1), logger: Logger(label: "test"))
    }

    static func tempRoot() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("podworker-\(UUID().uuidString)").path
    }
}
