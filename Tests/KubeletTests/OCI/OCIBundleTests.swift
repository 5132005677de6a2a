import Foundation
import KubeModel
import Testing
@testable import Kubelet

@Suite struct OCIBundleTests {
    func config(command: [String] = [], args: [String] = [], security: ContainerSecurity = .init()) -> ContainerConfig {
        var c = ContainerConfig(id: ContainerID(podUID: "u1", name: "app", attempt: 0), namespace: "ns", podName: "web", image: "x:1",
                                command: command, args: args, env: [("MODE", "pod"), ("EXTRA", "1")], workingDir: nil,
                                mounts: [Mount(hostPath: "/var/vol", containerPath: "/data", readOnly: true)],
                                limits: ResourceLimits(memoryBytes: 64 << 20, cpuMillis: 250, pids: 100), logPath: "/tmp/x.log")
        c.security = security
        c.hostname = "web"
        return c
    }

    let image = ImageConfig.Settings(Entrypoint: ["/entry"], Cmd: ["--default"], Env: ["PATH=/bin", "MODE=image"], WorkingDir: "/srv")

    @Test func commandAndArgsFollowKubernetesRules() {
        #expect(OCIBundle.argv(command: [], args: [], image: image) == ["/entry", "--default"])
        #expect(OCIBundle.argv(command: [], args: ["--x"], image: image) == ["/entry", "--x"])
        #expect(OCIBundle.argv(command: ["/bin/sh"], args: [], image: image) == ["/bin/sh"])
        #expect(OCIBundle.argv(command: ["/bin/sh"], args: ["-c", "true"], image: image) == ["/bin/sh", "-c", "true"])
    }

    @Test func podEnvironmentOverridesTheImage() {
        #expect(OCIBundle.environment(image: image.Env ?? [], pod: [("MODE", "pod")]) == ["PATH=/bin", "MODE=pod"])
        #expect(OCIBundle.environment(image: [], pod: []).first?.hasPrefix("PATH=") == true)
    }

    @Test func capabilities() {
        var security = ContainerSecurity()
        #expect(OCIBundle.capabilities(security).contains("CAP_CHOWN"))
        security.dropCapabilities = ["ALL"]
        security.addCapabilities = ["NET_BIND_SERVICE"]
        #expect(OCIBundle.capabilities(security) == ["CAP_NET_BIND_SERVICE"])
        security.privileged = true
        #expect(OCIBundle.capabilities(security).contains("CAP_SYS_ADMIN"))
    }

    @Test func specCarriesNamespaceMountsAndLimits() {
        var security = ContainerSecurity()
        security.readOnlyRootFilesystem = true
        let spec = OCIBundle(config: config(security: security), image: image, user: ContainerUser(uid: 1000, gid: 1000),
                             networkNamespace: "/var/run/netns/pod1", cgroupsPath: "/caravel/podu1/app_0").spec
        #expect(spec[path: ["process", "args"]] == ["/entry", "--default"])
        #expect(spec[path: ["process", "cwd"]] == "/srv")
        #expect(spec[path: ["process", "user", "uid"]] == 1000)
        #expect(spec[path: ["root", "readonly"]] == true)
        #expect(spec["hostname"] == "web")
        let namespaces = spec[path: ["linux", "namespaces"]]?.arrayValue ?? []
        #expect(namespaces.contains(["type": "network", "path": "/var/run/netns/pod1"]))
        #expect(spec[path: ["linux", "cgroupsPath"]] == "/caravel/podu1/app_0")
        #expect(spec[path: ["linux", "resources", "memory", "limit"]] == .int(64 << 20))
        #expect(spec[path: ["linux", "resources", "cpu", "quota"]] == 25_000)
        #expect(spec[path: ["linux", "resources", "pids", "limit"]] == 100)
        let mounts = spec["mounts"]?.arrayValue ?? []
        #expect(mounts.contains(["destination": "/data", "type": "bind", "source": "/var/vol", "options": ["rbind", "rprivate", "ro"]]))
    }

    @Test func userFromImageAndSecurityContext() throws {
        let root = NSTemporaryDirectory() + "caravel-user-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "root:x:0:0::/:/bin/sh\napp:x:1001:1002::/:/bin/sh\n".write(toFile: root + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nstaff:x:50:\n".write(toFile: root + "/etc/group", atomically: true, encoding: .utf8)
        #expect(try ContainerUser.resolve(security: .init(), imageUser: nil, rootfs: root) == ContainerUser(uid: 0, gid: 0))
        #expect(try ContainerUser.resolve(security: .init(), imageUser: "app", rootfs: root) == ContainerUser(uid: 1001, gid: 1002))
        #expect(try ContainerUser.resolve(security: .init(), imageUser: "app:staff", rootfs: root) == ContainerUser(uid: 1001, gid: 50))
        #expect(try ContainerUser.resolve(security: .init(), imageUser: "42:7", rootfs: root) == ContainerUser(uid: 42, gid: 7))
        var security = ContainerSecurity()
        security.runAsUser = 2000
        security.runAsGroup = 3000
        #expect(try ContainerUser.resolve(security: security, imageUser: "app", rootfs: root) == ContainerUser(uid: 2000, gid: 3000))
        #expect(throws: ContainerUser.UnknownUser.self) { try ContainerUser.resolve(security: .init(), imageUser: "ghost", rootfs: root) }
    }

    @Test func crunRefusalAndWrapperOnHybridHosts() throws {
        let mount = NSTemporaryDirectory() + "caravel-cg-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        try FileManager.default.createDirectory(atPath: mount + "/unified", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: mount + "/unified/cgroup.controllers", contents: Data())
        #expect(RuncCommand.isHybrid(mount))
        #expect(throws: RuncCommand.Unavailable.self) { try RuncCommand.locate("docker", stateRoot: "/tmp/x") }
        if PodNetworkCommand.find("crun") != nil {
            let crun = try RuncCommand.locate("crun", stateRoot: "/tmp/x", cgroupMount: mount)
            #expect(crun.wrapper.first?.hasSuffix("unshare") == true)
            #expect(crun.arguments(["state", "c"]).suffix(5) == [crun.binary, "--root", "/tmp/x", "state", "c"])
        }
    }

    @Test func limitsOnTheKubeletsCgroupStayOutOfTheSpec() {
        let spec = OCIBundle(config: config(), image: image, user: ContainerUser(uid: 0, gid: 0), networkNamespace: nil,
                             cgroupsPath: "/caravel/podu1/app_0/runtime", limitsInParent: true).spec
        #expect(spec[path: ["linux", "cgroupsPath"]] == "/caravel/podu1/app_0/runtime")
        #expect(spec[path: ["linux", "resources", "memory"]] == nil)
        #expect(spec[path: ["linux", "resources", "cpu"]] == nil)
        #expect(spec[path: ["linux", "resources", "pids"]] == nil)
        #expect(spec[path: ["linux", "resources", "devices"]] != nil)
    }
}
