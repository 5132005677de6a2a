import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Kubelet

/// The real API server in-process (TLS) and a kubelet server, with a Node pointing at the
/// kubelet and Pod `default/p` bound to it: what `kubectl logs` and `kubectl exec` go through.
private func withCluster(_ body: (_ client: KubeRESTClient, _ apiBase: String, _ pki: TestPKI, _ logPath: String,
                                  _ runtime: ShellRuntime) async throws -> Void) async throws {
    let pki = try TestPKI()
    defer { pki.remove() }
    let config = APIServerConfiguration(dataDirectory: pki.dir + "/server", port: try freeLoopbackPort(), bookmarkInterval: .seconds(1))
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: quietLogger())
    let serverPKI = try PKI.ensure(directory: config.pkiDirectory)
    let logPath = pki.dir + "/0.log"
    let runtime = ShellRuntime()
    let kubelet = KubeletServer(port: 0, bindAddress: "127.0.0.1", clientCA: serverPKI.ca.certificatePEM,
                                lookup: FixedLookup(logPath: logPath), runtime: runtime, logger: quietLogger())
    let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
    do {
        try await withKubeletServer(kubelet, alongside: [app]) { port in
            var ready = false
            for _ in 0..<200 where !ready {
                ready = (try? await client.raw("GET", "/readyz")) != nil
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            try #require(ready)
            try await addNode(client, "n1", port: port)
            try await addPod(client, "p", node: "n1", containers: ["c"])
            try await body(client, "https://127.0.0.1:\(config.port)", TestPKI(dir: pki.dir, pki: serverPKI), logPath, runtime)
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

private func addNode(_ client: KubeRESTClient, _ name: String, port: Int) async throws {
    _ = try await client.create("/api/v1/nodes", ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)]])
    _ = try await client.patch("/api/v1/nodes/\(name)/status", ["status": [
        "addresses": [["type": "InternalIP", "address": "127.0.0.1"]],
        "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(port))]],
    ]])
}

private func addPod(_ client: KubeRESTClient, _ name: String, node: String?, containers: [String]) async throws {
    var spec: JSONValue = ["containers": .array(containers.map { ["name": .string($0), "image": "busybox"] })]
    if let node { spec["nodeName"] = .string(node) }
    _ = try await client.create("/api/v1/namespaces/default/pods",
                                ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": spec])
}

private func apiError(_ body: () async throws -> Void) async -> (Int, String)? {
    do { try await body() } catch let e as KubeAPIError { return (e.code, e.message) } catch { return (-1, "\(error)") }
    return nil
}

@Test(.timeLimit(.minutes(5))) func podLogsThroughTheAPIServer() async throws {
    try await withCluster { client, _, _, logPath, runtime in
        #expect(FileManager.default.createFile(atPath: logPath, contents: Data((0..<3).map { "2024-05-06T07:08:0\($0)Z stdout F line \($0)\n" }.joined().utf8)))
        let path = "/api/v1/namespaces/default/pods/p/log"
        #expect(String(decoding: try await client.raw("GET", path), as: UTF8.self) == "line 0\nline 1\nline 2\n")
        #expect(String(decoding: try await client.raw("GET", path, query: ["tailLines": "1", "container": "c"]), as: UTF8.self) == "line 2\n")
        #expect(String(decoding: try await client.raw("GET", path, query: ["limitBytes": "3"]), as: UTF8.self) == "lin")

        // Follow ends when the container stops.
        let stopper = Task { try await Task.sleep(for: .milliseconds(300)); runtime.stop() }
        #expect(String(decoding: try await client.raw("GET", path, query: ["follow": "true"]), as: UTF8.self) == "line 0\nline 1\nline 2\n")
        try await stopper.value

        #expect(await apiError { _ = try await client.raw("GET", path, query: ["container": "x"]) }?.0 == 400)
        #expect(await apiError { _ = try await client.raw("GET", path, query: ["tailLines": "-1"]) }?.0 == 400)
        try await addPod(client, "two", node: "n1", containers: ["a", "b"])
        let two = await apiError { _ = try await client.raw("GET", "/api/v1/namespaces/default/pods/two/log") }
        #expect(two?.0 == 400)
        #expect(two?.1.contains("a container name must be specified for pod two, choose one of: [a b]") == true)
        try await addPod(client, "pending", node: nil, containers: ["c"])
        #expect(await apiError { _ = try await client.raw("GET", "/api/v1/namespaces/default/pods/pending/log") }?.0 == 400)
        // A node whose kubelet does not answer.
        let deadPort = try BoundLoopbackSocket()
        defer { deadPort.close() }
        try await addNode(client, "dead", port: deadPort.port)
        try await addPod(client, "lost", node: "dead", containers: ["c"])
        let lost = await apiError { _ = try await client.raw("GET", "/api/v1/namespaces/default/pods/lost/log") }
        #expect(lost?.0 == 503)
        #expect(lost?.1.contains("unable to reach the kubelet of node dead") == true)
    }
}

@Test(.timeLimit(.minutes(5))) func podExecThroughTheAPIServer() async throws {
    try await withCluster { client, base, pki, _, _ in
        let tls = try TestPKI.clientTLS(pki.pki.admin)
        let wss = base.replacingOccurrences(of: "https://", with: "wss://") + "/api/v1/namespaces/default/pods/p/exec"
        let run = try await execSession(wss + "?command=sh&command=-c&command=echo+hi%3B+exit+3&container=c&stdout=true&stderr=true", tls: tls)
        #expect(run.stdout == "hi\n")
        let status = try JSONParser.parse(run.status)
        #expect(status["reason"] == "NonZeroExitCode")
        #expect(status[path: ["details", "causes"]]?.arrayValue?.first?["message"] == "3")

        let v4 = try await execSession(wss + "?command=echo&command=v4&stdout=true", tls: tls, protocol: "v4.channel.k8s.io")
        #expect(v4.stdout == "v4\n")
        #expect(try JSONParser.parse(v4.status)["status"] == "Success")
        let v5 = try await execSession(wss + "?command=cat&stdin=true&stdout=true", tls: tls, stdin: "ping")
        #expect(v5.stdout == "ping")
        #expect(try JSONParser.parse(v5.status)["status"] == "Success")

        // No client certificate: not upgraded.
        await #expect(throws: (any Error).self) { _ = try await execSession(wss + "?command=true", tls: TestPKI.clientTLS(nil)) }
        // A plain request (kubectl's SPDY fallback) gets a Status.
        let plain = await apiError { _ = try await client.raw("POST", "/api/v1/namespaces/default/pods/p/exec", query: ["command": "true"]) }
        #expect(plain?.0 == 400)
    }
}
