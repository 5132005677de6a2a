import KubeTesting
import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// Whether python3 has grpcio (Tests/e2e/requirements.txt); the test is skipped without it.
private func pythonHasGRPC() async -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", "import grpc"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    return (try? await TestProcess.run(p)) == 0
}

/// A grpc.health.v1 server written against raw bytes, so only grpcio is needed: "" serves,
/// "down" is NOT_SERVING, anything else is NOT_FOUND.
private let healthServer = #"""
import grpc
from concurrent import futures
status = {"": 1, "down": 2}
def check(req, ctx):
    svc = req[2:2 + req[1]].decode() if req[:1] == b"\x0a" else ""
    if svc not in status: ctx.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
    return bytes([8, status[svc]])
h = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": grpc.unary_unary_rpc_method_handler(check)})
s = grpc.server(futures.ThreadPoolExecutor(4))
s.add_generic_rpc_handlers((h,))
port = s.add_insecure_port("127.0.0.1:0")
s.start()
print(port, flush=True)
s.wait_for_termination()
"""#

@Suite struct ProbeGRPCTests {
    @Test(.enabled("python3 lacks grpcio") { await pythonHasGRPC() }) func healthService() async throws {
        let server = try await ProbeTestServer.start(python: healthServer)
        defer { server.stop() }
        let port = JSONValue.int(Int64(server.port))
        let target = probeTarget()
        #expect(await Prober.run(["grpc": ["port": port]], target: target) == .success)
        #expect(await Prober.run(["grpc": ["port": port, "service": "down"]], target: target)
            == .failure("service unhealthy (responded with \"NOT_SERVING\")"))
        guard case .failure(let unknown) = await Prober.run(["grpc": ["port": port, "service": "nope"]], target: target) else {
            Issue.record("unknown service succeeded"); return
        }
        #expect(unknown.contains("rpc error"))
    }

    @Test func refusedAndFraming() async throws {
        let closedPort = try BoundLoopbackSocket()
        defer { closedPort.close() }
        let closed = JSONValue.int(Int64(closedPort.port))
        guard case .failure(let refused) = await Prober.run(["grpc": ["port": closed]], target: probeTarget()) else {
            Issue.record("closed port succeeded"); return
        }
        #expect(refused.contains("connection refused"))
        // A response DATA frame carrying HealthCheckResponse{status: SERVING}.
        let data = GRPCProbe.frame(type: 0, flags: 0, stream: 1, payload: [0, 0, 0, 0, 2, 8, 1])
        let settings = GRPCProbe.frame(type: 4, flags: 0, stream: 0, payload: [])
        let scan = GRPCProbe.scan(settings + data)
        #expect(scan.replies == GRPCProbe.frame(type: 4, flags: 1, stream: 0, payload: []))
        #expect(try scan.outcome?.get() == 1)
        #expect(GRPCProbe.healthStatus([0, 0, 0, 0, 0]) == 0)
    }
}
