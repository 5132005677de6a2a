import KubeModel

/// `exec` probes: the command runs in the container's environment; exit 0 is success,
/// anything else (including a timeout) is a failure carrying the command's output.
enum ExecProbe {
    static func run(_ action: JSONValue, target: ProbeTarget, timeout: Duration) async -> ProbeResult {
        switch await exec(action, target: target, timeout: timeout) {
        case .success(let r) where r.exitCode == 0:
            return .success
        case .success(let r):
            let output = r.output.trimmingTrailingNewlines
            return .failure(output.isEmpty ? "command \(quoted(action)) exited with \(r.exitCode)" : output)
        case .failure(let e):
            return .failure(e.description)
        }
    }

    /// Runs the action's command; shared with lifecycle hooks.
    static func exec(_ action: JSONValue, target: ProbeTarget, timeout: Duration) async -> Result<ExecResult, ProbeError> {
        let command = action["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        guard !command.isEmpty else { return .failure(ProbeError("exec: command is empty")) }
        do {
            return .success(try await target.runtime.exec(target.containerID, command: command, timeout: timeout))
        } catch is ExecTimeout {
            return .failure(ProbeError("command timed out"))
        } catch {
            return .failure(ProbeError("exec \(quoted(action)) failed: \(error)"))
        }
    }

    static func quoted(_ action: JSONValue) -> String {
        "'" + (action["command"]?.arrayValue?.compactMap(\.stringValue) ?? []).joined(separator: " ") + "'"
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while let last = s.last, last.isNewline { s = s.dropLast() }
        return String(s)
    }
}
