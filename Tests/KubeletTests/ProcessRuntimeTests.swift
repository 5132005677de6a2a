import Foundation
import Testing
@testable import Kubelet

@Suite struct ProcessRuntimeTests {
    @Test func exitedContainerReportsCodeAndLogsBothStreams() async throws {
        try await ProcessRuntimeHarness.with { h in
            let config = h.config("c", command: ["sh", "-c", "echo out; echo err >&2; echo $GREETING; exit 3"])
            let id = try await h.runtime.startContainer(config)
            let state = await h.waitExited(id)
            #expect(state?.harnessExitCode == 3)
            #expect(state?.harnessReason == "Error")
            let log = try String(contentsOfFile: config.logPath, encoding: .utf8)
            let lines = log.split(separator: "\n")
            #expect(lines.contains { $0.hasSuffix(" stdout F out") })
            #expect(lines.contains { $0.hasSuffix(" stderr F err") })
            #expect(lines.contains { $0.hasSuffix(" stdout F hello") })
            for line in lines {
                let fields = line.split(separator: " ", maxSplits: 3)
                #expect(fields.count == 4)
                #expect(RFC3339Nano.parse(String(fields[0])) != nil)
            }
            let listed = await h.runtime.listContainers()
            #expect(listed.map(\.id) == [id])
            await h.runtime.removeContainer(id)
            #expect(await h.runtime.containerStatus(id) == nil)
            #expect(FileManager.default.fileExists(atPath: config.logPath))
        }
    }

    @Test func completedAndStartErrors() async throws {
        try await ProcessRuntimeHarness.with { h in
            let ok = try await h.runtime.startContainer(h.config("ok", command: ["true"]))
            #expect(await h.waitExited(ok)?.harnessReason == "Completed")

            await #expect(throws: ContainerStartError.self) {
                _ = try await h.runtime.startContainer(h.config("missing", command: ["no-such-program-caravel"]))
            }
            do {
                // An image naming no program here (busybox may well be installed on the node).
                var noProgram = h.config("badimage", command: [])
                noProgram.image = "registry.example/no-such-program-caravel:1"
                _ = try await h.runtime.startContainer(noProgram)
                Issue.record("expected ErrImagePull")
            } catch let error as ContainerStartError {
                #expect(error.reason == "ErrImagePull")
            }
            do {
                _ = try await h.runtime.startContainer(h.config("baddir", command: ["pwd"], workingDir: h.root + "/later"))
                Issue.record("expected RunContainerError")
            } catch let error as ContainerStartError {
                #expect(error.reason == "RunContainerError")
                #expect(error.message.contains("/later"))
            }
            let failed = ContainerID(podUID: h.podUID, name: "baddir", attempt: 0)
            #expect(await h.runtime.containerStatus(failed)?.harnessReason == "StartError")
            // A failed start may be retried in place once the cause is fixed.
            try FileManager.default.createDirectory(atPath: h.root + "/later", withIntermediateDirectories: true)
            let retried = try await h.runtime.startContainer(h.config("baddir", command: ["pwd"], workingDir: h.root + "/later"))
            #expect(await h.waitExited(retried)?.harnessReason == "Completed")
        }
    }

    @Test func stopSendsTermFirstThenKillsAfterGrace() async throws {
        try await ProcessRuntimeHarness.with { h in
            let sleeper = try await h.runtime.startContainer(h.config("sleeper", command: ["sleep", "1000"]))
            let trapping = h.config("trap", command: ["sh", "-c", "trap 'echo term; exit 0' TERM; echo ready; while true; do sleep 0.1; done"])
            let trapID = try await h.runtime.startContainer(trapping)
            let stubborn = h.config("stubborn", command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"])
            let stubbornID = try await h.runtime.startContainer(stubborn)
            _ = await h.waitForLog(trapping.logPath, containing: "ready")
            _ = await h.waitForLog(stubborn.logPath, containing: "ready")
            #expect(await h.runtime.containerStatus(sleeper)?.harnessIsRunning == true)

            await h.runtime.stopContainer(sleeper, gracePeriod: .seconds(5))
            let sleeperState = await h.runtime.containerStatus(sleeper)
            #expect(sleeperState?.harnessExitCode == 143)

            await h.runtime.stopContainer(trapID, gracePeriod: .seconds(30))
            #expect(await h.runtime.containerStatus(trapID)?.harnessExitCode == 0)
            #expect(try String(contentsOfFile: trapping.logPath, encoding: .utf8).contains("stdout F term"))

            await h.runtime.stopContainer(stubbornID, gracePeriod: .milliseconds(300))
            let stubbornState = await h.runtime.containerStatus(stubbornID)
            #expect(stubbornState?.harnessExitCode == 137)
            if case .exited(_, let signal, _, _, _) = stubbornState { #expect(signal == SIGKILL) }
        }
    }

    @Test func newRuntimeInstanceFindsRunningContainer() async throws {
        try await ProcessRuntimeHarness.with { h in
            let config = h.config("long", command: ["sleep", "1000"])
            let id = try await h.runtime.startContainer(config)
            let pid = try #require(h.runtime.record(id).pid())

            // The shim ignores the signals a dying kubelet or a terminal would send it.
            let shim = try #require(h.runtime.record(id).shimPid())
            kill(shim, SIGTERM)
            kill(shim, SIGHUP)
            try await Task.sleep(for: .milliseconds(100))
            #expect(kill(shim, 0) == 0)

            let restarted = ProcessRuntimeHarness.makeRuntime(paths: h.paths)
            let listed = await restarted.listContainers()
            #expect(listed.count == 1)
            #expect(listed.first?.id == id)
            #expect(listed.first?.state.harnessIsRunning == true)
            #expect(listed.first?.logPath == config.logPath)
            // Starting the same attempt again is a no-op, not a second process.
            _ = try await restarted.startContainer(config)
            #expect(restarted.record(id).pid() == pid)

            await restarted.stopContainer(id, gracePeriod: .seconds(5))
            #expect(await restarted.containerStatus(id)?.harnessExitCode == 143)
            #expect(kill(pid, 0) != 0)
        }
    }

    @Test func statusQueriesDuringAStartNeverReportItLost() async throws {
        try await ProcessRuntimeHarness.with { h in
            let config = h.config("racer", command: ["sleep", "1000"])
            // The node's relist asks for every container while a start is under way; the window
            // before the shim records its pid must not read as a shim that died.
            let start = Task { try await h.runtime.startContainer(config) }
            var exitedSeen: [ContainerRuntimeState] = []
            while true {
                for record in await h.runtime.listContainers() {
                    if case .exited = record.state { exitedSeen.append(record.state) }
                }
                if h.runtime.record(config.id).pid() != nil { break }
                await Task.yield()
            }
            let id = try await start.value
            #expect(exitedSeen.first == nil, "reported exited during its own start \(exitedSeen.count) times")
            #expect(await h.runtime.containerStatus(id)?.harnessIsRunning == true)
            #expect(h.runtime.record(id).exit() == nil)
            await h.runtime.stopContainer(id, gracePeriod: .seconds(5))
        }
    }

    @Test func aStartCutShortIsStartingThenLost() async throws {
        try await ProcessRuntimeHarness.with { h in
            // A kubelet that died between writing the config and spawning the shim leaves a
            // directory with config.json only.
            for (name, age) in [("fresh", 1.0), ("stale", ProcessRuntime.launchGrace + 60)] {
                let id = ContainerID(podUID: h.podUID, name: name, attempt: 0)
                let record = h.runtime.record(id)
                try FileManager.default.createDirectory(atPath: record.directory, withIntermediateDirectories: true)
                try record.save(ShimConfig(podUID: h.podUID, name: name, attempt: 0, namespace: "default", podName: "pod",
                                           image: "busybox", argv: ["/bin/true"], env: [], workingDir: nil, logPath: "/dev/null",
                                           cgroups: [], networkNamespace: nil, createdAt: Date().addingTimeInterval(-age)))
            }
            let fresh = await h.runtime.containerStatus(ContainerID(podUID: h.podUID, name: "fresh", attempt: 0))
            #expect(fresh?.harnessIsRunning == true)
            let stale = await h.runtime.containerStatus(ContainerID(podUID: h.podUID, name: "stale", attempt: 0))
            #expect(stale?.harnessExitCode == 255)
        }
    }

    @Test func logRotationKeepsConfiguredFiles() async throws {
        try await ProcessRuntimeHarness.with(logMaxBytes: 1000, logMaxFiles: 2) { h in
            let config = h.config("chatty", command: ["sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"])
            let id = try await h.runtime.startContainer(config)
            #expect(await h.waitExited(id)?.harnessReason == "Completed")
            let fm = FileManager.default
            #expect(fm.fileExists(atPath: config.logPath))
            #expect(fm.fileExists(atPath: config.logPath + ".1"))
            #expect(fm.fileExists(atPath: config.logPath + ".2"))
            #expect(!fm.fileExists(atPath: config.logPath + ".3"))
            for path in [config.logPath, config.logPath + ".1", config.logPath + ".2"] {
                let size = (try fm.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                #expect(size <= 1000)
            }
            #expect(try String(contentsOfFile: config.logPath, encoding: .utf8).contains("stdout F line-199"))
        }
    }

    @Test func longLinesAreSplitIntoPartialRecords() async throws {
        try await ProcessRuntimeHarness.with { h in
            let config = h.config("long-line", command: ["python3", "-c", "print('x' * 40000)"])
            let id = try await h.runtime.startContainer(config)
            #expect(await h.waitExited(id)?.harnessReason == "Completed")
            let lines = try String(contentsOfFile: config.logPath, encoding: .utf8).split(separator: "\n")
            #expect(lines.filter { $0.contains(" stdout P ") }.count == 2)
            #expect(lines.filter { $0.contains(" stdout F ") }.count == 1)
        }
    }

    @Test func memoryLimitEndsOOMKilled() async throws {
        try await ProcessRuntimeHarness.with { h in
            guard h.runtime.cgroups.enabled else { return } // needs root and writable cgroups
            let config = h.config("hog", command: ["python3", "-c", "b = bytearray(200 * 1024 * 1024); print(len(b))"],
                                  limits: ResourceLimits(memoryBytes: 32 * 1024 * 1024, cpuMillis: 500, pids: 64))
            let id = try await h.runtime.startContainer(config)
            let state = await h.waitExited(id)
            #expect(state?.harnessReason == "OOMKilled")
            #expect(state?.harnessExitCode == 137)
            let dirs = h.runtime.cgroups.containerDirectories(id)
            #expect(!dirs.isEmpty)
            if let cpu = dirs.first(where: { $0.contains("/cpu/") }) {
                #expect((try? String(contentsOfFile: cpu + "/cpu.cfs_quota_us", encoding: .utf8))?.hasPrefix("50000") == true)
            }
            if let pids = dirs.first(where: { $0.contains("/pids/") }) {
                #expect((try? String(contentsOfFile: pids + "/pids.max", encoding: .utf8))?.hasPrefix("64") == true)
            }
            await h.runtime.removeContainer(id)
            for dir in dirs { #expect(!FileManager.default.fileExists(atPath: dir)) }
        }
    }
}
