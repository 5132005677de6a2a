import KubeModel

/// Runs postStart and preStop handlers.
public enum LifecycleHookRunner {
    /// Runs a `LifecycleHandler` (exec, httpGet, sleep; tcpSocket is deprecated and, as in
    /// Kubernetes, does nothing). Returns nil on success, else the error message for the
    /// FailedPostStartHook / FailedPreStopHook event. `timeout` bounds the whole handler (the
    /// pod's grace period for preStop).
    public static func run(_ handler: JSONValue, target: ProbeTarget, timeout: Duration) async -> String? {
        if let exec = handler["exec"] {
            switch await ExecProbe.exec(exec, target: target, timeout: timeout) {
            case .success(let r) where r.exitCode == 0:
                return nil
            case .success(let r):
                return "command \(ExecProbe.quoted(exec)) exited with \(r.exitCode): \(r.output.trimmingTrailingNewlines)"
            case .failure(let e):
                return e.description
            }
        }
        if let http = handler["httpGet"] {
            // Hooks only care that a response arrived: the kubelet ignores the status code.
            switch await HTTPGetProbe.get(http, target: target, deadline: .now + timeout,
                                          userAgent: HTTPGetProbe.hookUserAgent) {
            case .success: return nil
            case .failure(let e): return e.description
            }
        }
        if let sleep = handler["sleep"] {
            let seconds = max(sleep["seconds"]?.intValue ?? 0, 0)
            let wanted = Duration.seconds(seconds)
            do {
                try await Task.sleep(for: min(wanted, timeout))
            } catch {
                return "container terminated before sleep hook finished"
            }
            return wanted > timeout ? "container terminated before sleep hook finished" : nil
        }
        if handler["tcpSocket"] != nil { return nil }
        return "lifecycle handler has no action (exec, httpGet, sleep)"
    }
}
