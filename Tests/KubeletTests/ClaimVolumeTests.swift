import Foundation
import KubeModel
import Logging
import Testing
@testable import Kubelet

/// `persistentVolumeClaim` volumes in the kubelet: a pod waits for its claim to be bound, a
/// local-path volume's directory is made on first mount and read-only claims mount read-only;
/// the janitor removes the directories of deleted Delete volumes only.
@Suite struct ClaimVolumeTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-claims-\(UUID().uuidString)").path

    func pod(readOnly: Bool = false) -> JSONValue {
        ["metadata": ["name": "web", "namespace": "ns", "uid": "uid-1"],
         "spec": ["volumes": [["name": "data", "persistentVolumeClaim": ["claimName": "data", "readOnly": .bool(readOnly)]]],
                  "containers": [["name": "c", "volumeMounts": [["name": "data", "mountPath": "/data"]]]]]]
    }

    func context(_ pod: JSONValue) -> PodContext { PodContext(pod: pod, nodeName: "node-a", hostIP: "10.0.0.1", podIP: "10.244.0.5") }

    func boundClaim(uid: String = "claim-uid") -> JSONValue {
        ["metadata": ["name": "data", "namespace": "ns", "uid": .string(uid)], "spec": ["volumeName": "pvc-1"], "status": ["phase": "Bound"]]
    }

    func volume(path: String, policy: String = "Delete") -> JSONValue {
        ["metadata": ["name": "pvc-1"],
         "spec": ["persistentVolumeReclaimPolicy": .string(policy), "claimRef": ["namespace": "ns", "name": "data", "uid": "claim-uid"],
                  "hostPath": ["path": .string(path), "type": "DirectoryOrCreate"]]]
    }

    @Test func aPodWaitsForItsClaimThenGetsTheVolumesDirectory() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let paths = KubeletPaths(root: root)
        let source = DictObjectSource()
        let manager = VolumeManager(paths: paths, source: source, logger: Logger(label: "test"))
        let directory = paths.localVolumesDirectory + "/pvc-1_ns_data"

        await #expect(throws: ContainerStartError.self) { _ = try await manager.prepare(context(pod())) }
        await source.setClaim("ns/data", ["metadata": ["name": "data", "uid": "claim-uid"], "status": ["phase": "Pending"]])
        do {
            _ = try await manager.prepare(context(pod()))
            Issue.record("an unbound claim was mounted")
        } catch let e as ContainerStartError {
            #expect(e.message == "error processing PVC ns/data: PVC is not bound")
        }
        // The fake runtime touches no disk but waits all the same.
        await #expect(throws: ContainerStartError.self) { try await manager.resolveClaims(context(pod())) }

        await source.setClaim("ns/data", boundClaim())
        await source.setVolume("pvc-1", volume(path: directory))
        try await manager.resolveClaims(context(pod()))
        #expect(!FileManager.default.fileExists(atPath: directory))
        let prepared = try await manager.prepare(context(pod(readOnly: true)))
        #expect(prepared["data"] == directory)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue)
        let mounts = try VolumeManager.mounts(for: pod()[path: ["spec", "containers"]]?.arrayValue?.first ?? [:], volumes: prepared,
                                              readOnlyVolumes: ClaimVolume.readOnlyVolumes(of: pod(readOnly: true)))
        #expect(mounts.map(\.hostPath) == [directory] && mounts.map(\.readOnly) == [true])

        // A claim replaced by a new one of the same name is not given the old volume.
        await source.setClaim("ns/data", boundClaim(uid: "another"))
        await #expect(throws: ContainerStartError.self) { _ = try await manager.prepare(context(pod())) }
    }

    @Test func theJanitorRemovesOnlyDeletedVolumesOfPolicyDelete() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = KubeletPaths(root: root).localVolumesDirectory
        for entry in ["pvc-del_ns_a", "pvc-keep_ns_b", "pvc-live_ns_c", "not-a-volume"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + entry, withIntermediateDirectories: true)
        }
        let source = DictObjectSource()
        await source.setVolume("pvc-del", volume(path: directory + "/pvc-del_ns_a", policy: "Delete"))
        await source.setVolume("pvc-keep", volume(path: directory + "/pvc-keep_ns_b", policy: "Retain"))
        await source.setVolume("pvc-live", volume(path: directory + "/pvc-live_ns_c", policy: "Delete"))
        let janitor = LocalVolumeJanitor(directory: directory, objects: source, interval: .seconds(10), logger: Logger(label: "test"))
        #expect(await janitor.sweep().isEmpty)

        await source.removeVolume("pvc-del")
        await source.removeVolume("pvc-keep")
        #expect(await janitor.sweep() == ["pvc-del_ns_a"])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        #expect(left == ["not-a-volume", "pvc-keep_ns_b", "pvc-live_ns_c"])
    }
}
