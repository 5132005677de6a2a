import Foundation
import Testing
@testable import Kubelet

/// The kubelet's resource metrics: cgroup and /proc parsing from fixture directories, the
/// fake runtime's declared usage on an injected clock, and the Prometheus text served at
/// `/metrics/resource`.
@Suite struct ResourceMetricsTests {
    func fixture(_ files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "caravel-metrics-\(UUID().uuidString)"
        for (path, text) in files {
            let full = dir + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func cgroupV1UsageIsCpuacctAndUsageMinusTotalInactiveFile() throws {
        let dir = try fixture([
            "cpuacct/cpuacct.usage": "2500000000\n",
            "memory/memory.usage_in_bytes": "10485760\n",
            // `inactive_file` is the cgroup's own; v1 working set uses the hierarchical total.
            "memory/memory.stat": "cache 4096\ninactive_file 1048576\ntotal_inactive_file 2097152\ntotal_rss 8388608\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let usage = CgroupUsage.read(cpuDirectory: dir + "/cpuacct", cpuV2: false, memoryDirectory: dir + "/memory", memoryV2: false)
        #expect(usage == ContainerUsage(cpuSeconds: 2.5, memoryWorkingSetBytes: 10485760 - 2097152))
    }

    @Test func cgroupV2UsageIsUsageUsecAndCurrentMinusInactiveFile() throws {
        let dir = try fixture([
            "pod/cpu.stat": "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
            "pod/memory.current": "8192000\n",
            "pod/memory.stat": "anon 4096000\nfile 4096000\nactive_file 1000\ninactive_file 4000000\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let usage = CgroupUsage.read(cpuDirectory: dir + "/pod", cpuV2: true, memoryDirectory: dir + "/pod", memoryV2: true)
        #expect(usage == ContainerUsage(cpuSeconds: 1.5, memoryWorkingSetBytes: 8192000 - 4000000))
    }

    @Test func workingSetNeverGoesNegativeAndMissingFilesGiveNil() throws {
        #expect(CgroupUsage.workingSet(usage: "100", stat: "total_inactive_file 500", v2: false) == 0)
        #expect(CgroupUsage.workingSet(usage: "garbage", stat: "", v2: true) == nil)
        let dir = try fixture(["cpuacct/cpuacct.usage": "1\n"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(CgroupUsage.read(cpuDirectory: dir + "/cpuacct", cpuV2: false, memoryDirectory: dir + "/memory", memoryV2: false) == nil)
    }

    @Test func procFallbackSumsTheProcessGroup() throws {
        // /proc/PID/stat with a command name holding spaces and parentheses.
        let stat = { (pgid: Int, utime: Int, stime: Int) in
            "42 (my (odd) cmd) S 1 \(pgid) \(pgid) 0 -1 4194560 100 0 0 0 \(utime) \(stime) 0 0 20 0 1 0 100 1000 50\n"
        }
        let dir = try fixture([
            "100/stat": stat(100, 150, 50), "100/statm": "1000 200 50 1 0 100 0\n",
            "101/stat": stat(100, 30, 20), "101/statm": "500 100 10 1 0 50 0\n",
            "102/stat": stat(7, 999, 999), "102/statm": "500 300 10 1 0 50 0\n",
            "self/stat": "not a pid directory",
        ])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(ProcessGroupUsage.parseStat(stat(100, 150, 50)) == .init(pgid: 100, cpuTicks: 200))
        let usage = try #require(ProcessGroupUsage.read(pgid: 100, proc: dir))
        #expect(abs(usage.cpuSeconds - 250 / ProcessGroupUsage.ticksPerSecond) < 1e-9)
        #expect(usage.memoryWorkingSetBytes == 300 * ProcessGroupUsage.pageSize)
        #expect(ProcessGroupUsage.read(pgid: 555, proc: dir) == nil)
    }

    @Test func nodeTotalsFromProcStatAndMeminfo() {
        let stat = "cpu  1000 200 300 50000 400 10 20 30 0 0\ncpu0 500 100 150 25000 200 5 10 15 0 0\nintr 1\n"
        // Busy: user + nice + system + irq + softirq + steal, not idle or iowait.
        #expect(NodeUsage.cpuSeconds(procStat: stat, ticksPerSecond: 100) == 15.6)
        #expect(NodeUsage.cpuSeconds(procStat: "intr 1\n") == nil)
        let meminfo = HostProbe.meminfo(path: "/nonexistent")
        #expect(meminfo.isEmpty)
        #expect(NodeUsage.workingSetBytes(meminfo: ["MemTotal": 8000, "MemFree": 2000, "Inactive(file)": 1000]) == 5000)
        #expect(NodeUsage.workingSetBytes(meminfo: ["MemFree": 1]) == nil)
    }

    @Test func fakeUsageFollowsAnnotationsOnTheInjectedClock() {
        let meter = FakeUsageMeter(now: { Date(timeIntervalSince1970: 0) })
        let t0 = Date(timeIntervalSince1970: 1000)
        let annotations = [FakeUsageMeter.cpuAnnotation: "500m", FakeUsageMeter.memoryAnnotation: "100Mi"]
        meter.observe(podUID: "u", annotations: annotations, at: t0)
        let at10 = meter.usage(podUID: "u", annotations: annotations, containers: ["a", "b"], at: t0.addingTimeInterval(10))
        // 0.5 cores for 10 s, split over two containers; 100Mi split too.
        #expect(at10["a"] == ContainerUsage(cpuSeconds: 2.5, memoryWorkingSetBytes: 50 << 20))
        #expect(at10["b"] == at10["a"])
        // The rate changes when the annotation does, not before.
        let faster = [FakeUsageMeter.cpuAnnotation: "2", FakeUsageMeter.memoryAnnotation: "1Gi"]
        meter.observe(podUID: "u", annotations: faster, at: t0.addingTimeInterval(20))
        let at25 = meter.usage(podUID: "u", annotations: faster, containers: ["a", "b"], at: t0.addingTimeInterval(25))
        #expect(at25["a"] == ContainerUsage(cpuSeconds: (0.5 * 20 + 2 * 5) / 2, memoryWorkingSetBytes: 512 << 20))
        // Missing or invalid annotations count as zero.
        meter.observe(podUID: "v", annotations: [FakeUsageMeter.cpuAnnotation: "lots"], at: t0)
        #expect(meter.usage(podUID: "v", annotations: [FakeUsageMeter.cpuAnnotation: "lots"], containers: ["c"], at: t0.addingTimeInterval(5))["c"] == .zero)
        meter.forget(podUID: "u")
        let restarted = meter.usage(podUID: "u", annotations: faster, containers: ["a"], at: t0.addingTimeInterval(30))
        #expect(restarted["a"]?.cpuSeconds == 0)
    }

    struct Pods: RunningPodSource {
        var pods: [RunningPod]
        func runningPods() async -> [RunningPod] { pods }
    }

    @Test func collectorRendersTheKubeletsMetricNamesWithMillisecondTimestamps() async {
        let started = Date(timeIntervalSince1970: 1_700_000_000)
        let pod = RunningPod(namespace: "shop", name: "web-1", uid: "u1",
                             annotations: [FakeUsageMeter.cpuAnnotation: "1", FakeUsageMeter.memoryAnnotation: "64Mi"],
                             containers: [.init(name: "app", id: ContainerID(podUID: "u1", name: "app", attempt: 0), startedAt: started),
                                          .init(name: "side\"car", id: ContainerID(podUID: "u1", name: "side\"car", attempt: 0), startedAt: started)])
        let meter = FakeUsageMeter()
        meter.observe(podUID: "u1", annotations: pod.annotations, at: Date(timeIntervalSince1970: 1_700_000_010))
        let runtime = FakeRuntime(usageMeter: meter)
        let collector = ResourceMetricsCollector(pods: Pods(pods: [pod]), usage: runtime,
                                                 now: { Date(timeIntervalSince1970: 1_700_000_020.1234) })
        let snapshot = await collector.collect()
        #expect(snapshot.timestamp == Date(timeIntervalSince1970: 1_700_000_020.123))
        let text = ResourceMetricsText.render(snapshot)
        let lines = Set(text.split(separator: "\n").map(String.init))
        let ms = "1700000020123"
        let half: Double = 10.123 / 2
        let cpu = half.description
        let measured: [Double] = snapshot.containers.map { $0.usage.cpuSeconds }
        #expect(measured == [half, half])
        let podCPU: String = (half + half).description
        let labels = "container=\"app\",namespace=\"shop\",pod=\"web-1\""
        let odd = "container=\"side\\\"car\",namespace=\"shop\",pod=\"web-1\""
        let expected: [String] = [
            "# TYPE container_cpu_usage_seconds_total counter",
            "container_cpu_usage_seconds_total{\(labels)} \(cpu) \(ms)",
            "container_cpu_usage_seconds_total{\(odd)} \(cpu) \(ms)",
            "container_memory_working_set_bytes{\(labels)} \(32 << 20) \(ms)",
            "container_start_time_seconds{\(labels)} 1700000000.0 \(ms)",
            "pod_cpu_usage_seconds_total{namespace=\"shop\",pod=\"web-1\"} \(podCPU) \(ms)",
            "pod_memory_working_set_bytes{namespace=\"shop\",pod=\"web-1\"} \(64 << 20) \(ms)",
            // A fake node uses what its pods use.
            "node_memory_working_set_bytes \(64 << 20) \(ms)",
            "# TYPE node_cpu_usage_seconds_total counter",
            "resource_scrape_error 0",
        ]
        for line in expected {
            #expect(lines.contains(line), "missing: \(line)")
        }
    }

    @Test func aRuntimeThatCannotMeasureReportsNodeTotalsOnly() async {
        let pod = RunningPod(namespace: "d", name: "p", uid: "u", annotations: [:],
                             containers: [.init(name: "c", id: ContainerID(podUID: "u", name: "c", attempt: 0), startedAt: Date())])
        let snapshot = await ResourceMetricsCollector(pods: Pods(pods: [pod]), usage: nil).collect()
        #expect(snapshot.containers.isEmpty && snapshot.pods.isEmpty && !snapshot.scrapeError)
        let text = ResourceMetricsText.render(snapshot)
        #expect(!text.contains("container_cpu_usage_seconds_total{"))
        #expect(text.contains("resource_scrape_error 0"))
    }
}
