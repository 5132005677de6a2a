import Foundation
import class KubeClient.KubeRESTClient
import struct KubeClient.ClusterConnection
import KubeModel
import Testing
@testable import Kubelet

/// The last step of a termination, deleting the pod object, must survive a server that does
/// not answer for a while (it restarts): nothing about the pod changes again to retry it later.
@Suite struct PodWorkerTerminationTests {
    /// Fails the first `failures` pod deletes with 503, then accepts them; `/deletes` counts them.
    static func server(failures: Int) -> String {
        #"""
import http.server, json, socketserver
deletes = 0
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_DELETE(self):
        global deletes
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        deletes += 1
        if deletes <= FAILURES:
            self.reply(503, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "ServiceUnavailable", "code": 503})
        else:
            self.reply(200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 200})
    def do_PATCH(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply(503, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "ServiceUnavailable", "code": 503})
    def do_GET(self):
        self.reply(200, {"deletes": deletes})
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""#.replacingOccurrences(of: "FAILURES", with: String(failures))
    }

    static func worker(port: Int, root: String) throws -> (PodWorker, KubeRESTClient) {
        let client = try KubeRESTClient(connection: ClusterConnection(server: "http://127.0.0.1:\(port)"))
        let ctx = PodWorkerFixture.context(client: client, runtime: FakeRuntime(), root: root, simulated: true)
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "default", "uid": "uid-1", "deletionTimestamp": "2026-01-01T00:00:00Z"],
                              "spec": ["terminationGracePeriodSeconds": 0, "containers": [["name": "app"]]]]
        return (PodWorker(pod: pod, ctx: ctx, records: []), client)
    }

    @Test(.timeLimit(.minutes(1))) func aFailedPodDeleteIsTriedAgainUntilTheServerAccepts() async throws {
        let server = try await ProbeTestServer.start(python: Self.server(failures: 2))
        defer { server.stop() }
        let root = PodWorkerFixture.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (worker, client) = try Self.worker(port: server.port, root: root)

        await worker.terminate()

        #expect(try await client.get("/deletes")["deletes"] == 3)
        try await client.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func theObjectGoneEndsTheRetries() async throws {
        let server = try await ProbeTestServer.start(python: Self.server(failures: 1_000))
        defer { server.stop() }
        let root = PodWorkerFixture.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (worker, client) = try Self.worker(port: server.port, root: root)

        let terminating = Task { await worker.terminate() }
        var tried: Int64 = 0
        while tried < 2 {
            try await Task.sleep(for: .milliseconds(50))
            tried = try await client.get("/deletes")["deletes"]?.intValue ?? 0
        }
        await worker.podRemoved()
        await terminating.value

        #expect(await worker.removed)
        try await client.shutdown()
    }
}
