import Foundation
import KubeModel
import Testing
@testable import Kubelet

@Suite struct SeccompProfileTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seccomp-\(UUID().uuidString)").path

    func security(_ profile: JSONValue?, pod: JSONValue? = nil, privileged: Bool = false) -> ContainerSecurity {
        var container: JSONValue = ["name": "c"]
        var context: JSONValue = ["privileged": .bool(privileged)]
        if let profile { context["seccompProfile"] = profile }
        container["securityContext"] = context
        var podObject: JSONValue = ["spec": [:]]
        if let pod { podObject["spec"] = ["securityContext": ["seccompProfile": pod]] }
        return ContainerSecurity(container: container, pod: podObject)
    }

    func deniedNames(_ profile: JSONValue?) -> Set<String> {
        let rules = profile?["syscalls"]?.arrayValue ?? []
        return Set(rules.filter { $0["args"] == nil && $0["errnoRet"] == 1 }.flatMap { $0["names"]?.arrayValue ?? [] }.compactMap(\.stringValue))
    }

    @Test func containerProfileOverridesThePodsAndNoneIsUnconfined() {
        #expect(security(nil).seccomp == .unconfined)
        #expect(security(nil, pod: ["type": "RuntimeDefault"]).seccomp == .runtimeDefault)
        #expect(security(["type": "Unconfined"], pod: ["type": "RuntimeDefault"]).seccomp == .unconfined)
        #expect(security(["type": "Localhost", "localhostProfile": "p/a.json"]).seccomp == .localhost("p/a.json"))
        #expect(security(["type": "Bogus"]).seccomp == .unknown("Bogus"))
    }

    @Test func runtimeDefaultAllowsByDefaultAndDeniesTheDangerousSyscalls() throws {
        let sec = security(["type": "RuntimeDefault"])
        let profile = try SeccompProfile.spec(for: sec, capabilities: OCIBundle.capabilities(sec), directory: directory)
        #expect(profile?["defaultAction"] == "SCMP_ACT_ALLOW")
        #expect(profile?["architectures"]?.arrayValue?.isEmpty == false)
        let denied = deniedNames(profile)
        for name in ["mount", "umount2", "unshare", "setns", "keyctl", "init_module", "reboot", "ptrace", "bpf", "clock_settime"] {
            #expect(denied.contains(name), "\(name)")
        }
        #expect(!denied.contains("read") && !denied.contains("clone"))
        // clone with CLONE_NEWUSER is refused by a masked-argument rule; clone3 answers ENOSYS.
        let rules = profile?["syscalls"]?.arrayValue ?? []
        #expect(rules.contains(["names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                                "args": [["index": 0, "value": 0x1000_0000, "valueTwo": 0x1000_0000, "op": "SCMP_CMP_MASKED_EQ"]]]))
        #expect(rules.contains(["names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38]))
        // The whole thing lands in the runtime spec.
        let config = ContainerConfig(id: ContainerID(podUID: "u", name: "c", attempt: 0), namespace: "n", podName: "p", image: "x:1",
                                     command: ["/bin/sh"], args: [], env: [], workingDir: nil, mounts: [], limits: ResourceLimits(),
                                     logPath: "/tmp/x.log")
        let spec = OCIBundle(config: config, image: .init(), user: ContainerUser(uid: 0, gid: 0), networkNamespace: nil,
                             cgroupsPath: nil, seccomp: profile).spec
        #expect(spec[path: ["linux", "seccomp"]] == profile)
    }

    @Test func aCapabilityLiftsTheBlocksItGuards() throws {
        var sec = security(["type": "RuntimeDefault"])
        sec.addCapabilities = ["SYS_ADMIN", "SYS_PTRACE"]
        let profile = try SeccompProfile.spec(for: sec, capabilities: OCIBundle.capabilities(sec), directory: directory)
        let denied = deniedNames(profile)
        #expect(!denied.contains("mount") && !denied.contains("unshare") && !denied.contains("ptrace"))
        #expect(denied.contains("reboot") && denied.contains("keyctl"))
        #expect(!(profile?["syscalls"]?.arrayValue ?? []).contains { $0["names"] == ["clone"] })
    }

    @Test func privilegedAndUnconfinedContainersRunWithoutAFilter() throws {
        let privileged = security(["type": "RuntimeDefault"], privileged: true)
        #expect(try SeccompProfile.spec(for: privileged, capabilities: [], directory: directory) == nil)
        #expect(try SeccompProfile.spec(for: security(["type": "Unconfined"]), capabilities: [], directory: directory) == nil)
    }

    @Test func localhostReadsTheProfileFromTheSeccompDirectory() throws {
        try FileManager.default.createDirectory(atPath: directory + "/team", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/team/no-mkdir.json"))
        let profile = try SeccompProfile.spec(for: security(["type": "Localhost", "localhostProfile": "team/no-mkdir.json"]),
                                              capabilities: [], directory: directory)
        #expect(profile?[path: ["syscalls"]]?.arrayValue?.first?["names"] == ["mkdir", "mkdirat"])

        func failure(_ name: String) -> String {
            do {
                _ = try SeccompProfile.spec(for: security(["type": "Localhost", "localhostProfile": .string(name)]),
                                            capabilities: [], directory: directory)
                return "loaded"
            } catch { return error.description }
        }
        #expect(failure("missing.json").contains("cannot load seccomp profile \"\(directory)/missing.json\""))
        #expect(failure("../etc/passwd").contains("relative path"))
        #expect(failure("/etc/passwd").contains("relative path"))
        #expect(failure("").contains("relative path"))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: directory + "/bad.json"))
        #expect(failure("bad.json").contains("is not JSON"))
        #expect(throws: SeccompProfile.LoadError.self) {
            try SeccompProfile.spec(for: security(["type": "Bogus"]), capabilities: [], directory: directory)
        }
    }
}
