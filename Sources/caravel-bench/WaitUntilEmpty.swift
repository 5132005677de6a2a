import KubeClient

extension KubeRESTClient {
    /// Polls a collection until it lists nothing: true then, false once `timeout` passed.
    /// A failed LIST is thrown.
    func waitUntilEmpty(_ path: String, query: [String: String] = [:], timeout: Duration,
                        every interval: Duration = .milliseconds(250)) async throws -> Bool {
        var q = query
        q["limit"] = "1"
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try await list(path, query: q)["items"]?.arrayValue ?? []).isEmpty { return true }
            try await Task.sleep(for: interval)
        }
        return false
    }
}
