import Foundation
import Testing
@testable import Kubelet

@Suite struct CgroupsTests {
    /// A fake v1 + v2 hybrid tree: memory and cpu on v1, pids only on v2.
    @Test func limitsGoToTheHierarchyThatHasTheController() async throws {
        let fm = FileManager.default
        let mount = NSTemporaryDirectory() + "caravel-cg-" + UUID().uuidString.prefix(8)
        defer { try? fm.removeItem(atPath: mount) }
        for v1 in ["memory", "cpu"] {
            try fm.createDirectory(atPath: mount + "/" + v1, withIntermediateDirectories: true)
            _ = fm.createFile(atPath: mount + "/\(v1)/cgroup.procs", contents: nil)
        }
        try fm.createDirectory(atPath: mount + "/unified", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: mount + "/unified/cgroup.controllers", contents: Data("hugetlb pids\n".utf8))
        _ = fm.createFile(atPath: mount + "/unified/cgroup.subtree_control", contents: nil)

        let cgroups = Cgroups(parent: "caravel", mountPoint: mount)
        guard geteuid() == 0 else {
            #expect(!cgroups.enabled)
            return
        }
        #expect(cgroups.enabled)
        #expect(cgroups.hierarchies[.memory]?.v2 == false)
        #expect(cgroups.hierarchies[.pids]?.v2 == true)

        let id = ContainerID(podUID: "u1", name: "c", attempt: 2)
        let pod = try cgroups.create(podUID: "u1", container: nil, limits: ResourceLimits())
        #expect(pod.count == 3)
        for dir in [mount + "/unified/caravel", mount + "/unified/caravel/podu1"] {
            _ = fm.createFile(atPath: dir + "/cgroup.subtree_control", contents: nil)
        }
        // Fake files: a real cgroupfs creates them with the directory.
        for dir in cgroups.containerDirectories(id) {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for file in ["memory.limit_in_bytes", "cpu.cfs_period_us", "cpu.cfs_quota_us", "pids.max", "cgroup.subtree_control"] {
                _ = fm.createFile(atPath: dir + "/" + file, contents: nil)
            }
        }
        let dirs = try cgroups.create(podUID: "u1", container: id, limits: ResourceLimits(memoryBytes: 1 << 20, cpuMillis: 250, pids: 10))
        #expect(dirs.contains(mount + "/memory/caravel/podu1/c_2"))
        func read(_ path: String) -> String? { try? String(contentsOfFile: mount + path, encoding: .utf8) }
        #expect(read("/memory/caravel/podu1/c_2/memory.limit_in_bytes") == "1048576")
        #expect(read("/cpu/caravel/podu1/c_2/cpu.cfs_quota_us") == "25000")
        #expect(read("/cpu/caravel/podu1/c_2/cpu.cfs_period_us") == "100000")
        #expect(read("/unified/caravel/podu1/c_2/pids.max") == "10")
        #expect(read("/unified/caravel/podu1/cgroup.subtree_control") == "+pids")

        _ = fm.createFile(atPath: mount + "/memory/caravel/podu1/c_2/memory.oom_control",
                          contents: Data("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n".utf8))
        #expect(cgroups.oomKilled(id, killedBySignal9: true))
        #expect(!cgroups.oomKilled(ContainerID(podUID: "u1", name: "other", attempt: 0), killedBySignal9: false))

        // runc's child cgroup took the v1 kill count with it: the parent's peak at the limit
        // and a SIGKILL are the OOM killer's; a SIGKILL below the limit is not.
        let runc = ContainerID(podUID: "u1", name: "r", attempt: 0)
        for dir in cgroups.containerDirectories(runc) {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for file in ["memory.limit_in_bytes", "cgroup.subtree_control"] { _ = fm.createFile(atPath: dir + "/" + file, contents: nil) }
        }
        try cgroups.create(podUID: "u1", container: runc, limits: ResourceLimits(memoryBytes: 1 << 20))
        func write(_ file: String, _ text: String) { _ = fm.createFile(atPath: mount + "/memory/caravel/podu1/r_0/" + file, contents: Data(text.utf8)) }
        write("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
        write("memory.failcnt", "0\n")
        write("memory.limit_in_bytes", "1048576\n")
        write("memory.max_usage_in_bytes", "524288\n")
        #expect(!cgroups.oomKilled(runc, killedBySignal9: true, childCgroups: true))
        write("memory.max_usage_in_bytes", "1048576\n")
        #expect(cgroups.oomKilled(runc, killedBySignal9: true, childCgroups: true))
        #expect(!cgroups.oomKilled(runc, killedBySignal9: false, childCgroups: true))
        #expect(!cgroups.oomKilled(runc, killedBySignal9: true))
    }
}
