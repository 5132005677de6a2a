import KubeClient
import KubeModel

/// LIST of many pods: `count` pods that no scheduler takes (their `schedulerName` names none),
/// then whole-collection LISTs without paging, timed from the request to the last byte of
/// the answer (the client does not decode it: the figure is the server's and the wire's).
struct ListPhase: Sendable {
    let client: KubeRESTClient
    let namespace: String

    var pods: ResourcePath { .core("pods", namespace: namespace) }

    static func idlePod(_ i: Int) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string("list-\(i)"), "labels": ["app": "list-bench", "index": .string(String(i))]],
            "spec": [
                "schedulerName": "caravel-bench-none",
                "containers": [["name": "main", "image": "registry.example/app:1.0", "command": ["sleep", "3600"],
                                "resources": ["requests": ["cpu": "100m", "memory": "64Mi"]]]],
            ],
        ]
    }

    /// Creates the pods; answers how long that took (ms).
    func createPods(count: Int, concurrency: Int) async throws -> Double {
        let path = pods.path
        let start = monotonicNanos()
        try await Phases.fanOut(count: count, concurrency: concurrency) { i in _ = try await client.create(path, Self.idlePod(i)) }
        return millis(since: start)
    }

    /// `repeats` LISTs of the namespace's pods, one at a time; each one's time (ms) and the
    /// answer's size in bytes.
    func lists(repeats: Int, expecting count: Int) async throws -> (latencies: [Double], bytes: Int) {
        var latencies: [Double] = []
        var bytes = 0
        for _ in 0..<repeats {
            let start = monotonicNanos()
            let body = try await client.raw("GET", pods.path)
            latencies.append(millis(since: start))
            bytes = body.count
        }
        // The last answer decoded once, outside the timing, to check it is the whole list.
        let items = (try JSONParser.parse(try await client.raw("GET", pods.path)))["items"]?.arrayValue?.count ?? 0
        guard items == count else { throw BenchError("LIST answered \(items) pods, expected \(count)") }
        return (latencies, bytes)
    }

    /// Deletes the pods in one request and waits until they are gone.
    func deletePods() async throws {
        _ = try await client.raw("DELETE", pods.path, query: ["labelSelector": "app=list-bench"])
        guard try await client.waitUntilEmpty(pods.path, query: ["labelSelector": "app=list-bench"], timeout: .seconds(120), every: .milliseconds(500)) else {
            throw BenchError("the LIST phase's pods were not gone 120 s after their delete")
        }
    }
}
