import Foundation

extension ProcessRuntime {
    /// The container's state from its record and the live process table.
    func state(_ record: ShimRecord, config: ShimConfig) async -> ContainerRuntimeState? {
        let startedAt = record.startedAt() ?? config.createdAt
        if let exit = record.exit() { return exited(exit, id: config.id, record: record, startedAt: startedAt) }
        if let pid = record.pid(), !ProcFS.isGone(pid, startTime: config.pidStartTime) {
            return .running(startedAt: startedAt)
        }
        // Being started by this kubelet: the shim may not have recorded itself yet.
        if record.pid() == nil && starting.withLock({ $0.contains(config.id) }) {
            return .running(startedAt: startedAt)
        }
        // The child is gone (or not started yet): a live shim is about to write its record.
        var tries = 0
        while record.exit() == nil && !shimGone(record) && tries < 100 {
            if record.pid() == nil && tries >= 50 { break }
            try? await Task.sleep(for: .milliseconds(20))
            tries += 1
        }
        if let exit = record.exit() { return exited(exit, id: config.id, record: record, startedAt: startedAt) }
        if !shimGone(record) {
            // No shim.pid long after the config was written: the start was cut short (the kubelet
            // died between writing the config and spawning the shim) and nothing runs.
            let neverLaunched = record.shimPid() == nil && record.pid() == nil
                && Date().timeIntervalSince(config.createdAt) > launchGrace
            if !neverLaunched { return .running(startedAt: startedAt) }
        }
        // Monitor and child both gone without a record (the shim was killed, or never ran): the
        // exit status is lost. Record that once so the answer stays the same.
        let lost = ShimExit(exitCode: 255, signal: nil, finishedAt: RFC3339Nano.format(Date()),
                            execError: nil)
        try? ShimRecord.encode(lost, to: record.exitPath)
        logger.warning("container \(config.id): caravel-shim died, exit status unknown")
        return exited(lost, id: config.id, record: record, startedAt: startedAt)
    }

    private func exited(_ exit: ShimExit, id: ContainerID, record: ShimRecord, startedAt: Date) -> ContainerRuntimeState {
        let reason: String
        if exit.execError != nil {
            reason = "StartError"
        } else if exit.exitCode == 0 {
            reason = "Completed"
        } else {
            reason = oomKilled(id, record: record, exit: exit) ? "OOMKilled" : "Error"
        }
        let finishedAt = RFC3339Nano.parse(exit.finishedAt) ?? startedAt
        return .exited(exitCode: exit.exitCode, signal: exit.signal, reason: reason, startedAt: startedAt, finishedAt: finishedAt)
    }

    /// Asks the cgroup once and keeps the answer: the cgroup goes away with the sandbox.
    private func oomKilled(_ id: ContainerID, record: ShimRecord, exit: ShimExit) -> Bool {
        if let cached = ShimRecord.readInt(record.oomPath) { return cached == 1 }
        guard cgroups.enabled else { return false }
        let sigkill = exit.signal == SIGKILL || (containersInChildCgroups && exit.exitCode == 128 + SIGKILL)
        let killed = cgroups.oomKilled(id, killedBySignal9: sigkill, childCgroups: containersInChildCgroups)
        try? Data((killed ? "1\n" : "0\n").utf8).write(to: URL(fileURLWithPath: record.oomPath), options: .atomic)
        return killed
    }
}
