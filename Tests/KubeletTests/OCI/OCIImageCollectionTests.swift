import Foundation
import Logging
import Testing
@testable import Kubelet

/// The OCI runtime's garbage collection pass: the images of the node's containers (running or
/// exited, as their records name them) stay, the others go.
@Suite struct OCIImageCollectionTests {
    @Test func imagesOfTheNodesContainersAreKept() async throws {
        let base = NSTemporaryDirectory() + "caravel-ocigc-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let paths = KubeletPaths(root: base + "/root")
        let later: @Sendable () -> Date = { Date().addingTimeInterval(600) }
        let runtime = OCIRuntime(paths: paths, shimPath: "/bin/false", network: nil,
                                 runtime: RuncCommand(binary: "/bin/false", stateRoot: base + "/oci"), registries: RegistryHosts(),
                                 imageGC: ImageGarbageCollector(usage: { _ in 95 }, now: later), logger: Logger(label: "test"))
        for (i, tag) in ["example.com/used:1", "example.com/exited:1", "example.com/unused:1"].enumerated() {
            try ImageArchiveTests.dockerSave(at: base + "/archive\(i)", work: base, tag: tag, cmd: "/bin/\(i)")
            _ = try await runtime.images.importArchive(base + "/archive\(i)")
        }
        for (attempt, image) in ["example.com/exited:1", "example.com/used:1"].enumerated() {
            let id = ContainerID(podUID: "p1", name: "app", attempt: attempt)
            try FileManager.default.createDirectory(atPath: paths.containerDirectory(id), withIntermediateDirectories: true)
            try runtime.processes.record(id).save(ShimConfig(podUID: "p1", name: "app", attempt: attempt, namespace: "ns", podName: "web",
                                                              image: image, argv: ["/bin/true"], env: [], workingDir: nil,
                                                              logPath: base + "/log", cgroups: [], networkNamespace: nil, createdAt: Date()))
        }
        #expect(Set(runtime.imagesInUse()) == ["example.com/exited:1", "example.com/used:1"])
        #expect(await runtime.collectImages(keeping: nil) == ["example.com/unused:1"])
        #expect(Set(await runtime.images.list().flatMap(\.references)) == ["example.com/exited:1", "example.com/used:1"])
        await runtime.images.shutdown()
    }
}
