import KubeTesting
import Foundation
import KubeModel
import Testing
@testable import Kubelet

// MARK: Test doubles shared by the probe and hook tests

func probeTarget(runtime: any ContainerRuntime = ProbeTestRuntime(), container: JSONValue = ["name": "app"]) -> ProbeTarget {
    ProbeTarget(podIP: "127.0.0.1", containerID: ContainerID(podUID: "uid", name: "app", attempt: 0),
                container: container, runtime: runtime)
}

/// A python3 program listening on a free loopback port, which it prints first. Stopped by PID.
// MARK: httpGet

@Suite struct ProbeHTTPGetTests {
    /// A generous timeout unless a test is about timeouts: the suite runs on two cores in parallel
    /// with dozens of in-process control planes, and a probe's exchanges (a redirect makes two)
    /// were seen to take over 10 s there.
    func probe(_ server: ProbeTestServer, _ path: String, _ extra: [String: JSONValue] = [:],
               timeoutSeconds: Int64 = 60) async -> ProbeResult {
        var http: JSONValue = ["path": .string(path), "port": .int(Int64(server.port))]
        for (k, v) in extra { http[k] = v }
        return await Prober.run(["httpGet": http, "timeoutSeconds": .int(timeoutSeconds)], target: probeTarget())
    }

    @Test func statusCodes() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        #expect(await probe(server, "/ok") == .success)
        #expect(await probe(server, "/fail") == .failure("HTTP probe failed with statuscode: 500"))
        #expect(await probe(server, "/missing") == .failure("HTTP probe failed with statuscode: 404"))
        #expect(await probe(server, "/agent") == .success)
        #expect(await probe(server, "/big") == .success)
        #expect(await probe(server, "/chunked") == .success)
    }

    @Test func headersAndHostOverride() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        let headers: JSONValue = [["name": "X-Probe", "value": "yes"], ["name": "Host", "value": "example.test"]]
        #expect(await probe(server, "/headers", ["httpHeaders": headers]) == .success)
        #expect(await probe(server, "/headers") == .failure("HTTP probe failed with statuscode: 400"))
    }

    @Test func namedPort() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        let container: JSONValue = ["name": "app", "ports": [["name": "http", "containerPort": .int(Int64(server.port))]]]
        let target = probeTarget(container: container)
        #expect(await Prober.run(["httpGet": ["path": "/ok", "port": "http"]], target: target) == .success)
        let missing = await Prober.run(["httpGet": ["path": "/ok", "port": "metrics"]], target: target)
        #expect(missing == .failure("couldn't find port: metrics in container"))
    }

    @Test func redirects() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        let same = await probe(server, "/same")
        #expect(same == .success)
        let sameToFail = await probe(server, "/same-to-fail")
        #expect(sameToFail == .failure("HTTP probe failed with statuscode: 500"))
        // Another host is not followed; the redirect itself counts as success.
        #expect(await probe(server, "/other") == .success)
        guard case .failure(let loop) = await probe(server, "/loop") else { Issue.record("loop succeeded"); return }
        #expect(loop.contains("stopped after 10 redirects"))
    }

    @Test func timeoutAndRefused() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        guard case .failure(let slow) = await probe(server, "/slow", timeoutSeconds: 1) else {
            Issue.record("slow endpoint succeeded"); return
        }
        #expect(slow.contains("context deadline exceeded"))
        let closedPort = try BoundLoopbackSocket()
        defer { closedPort.close() }
        let closed = closedPort.port
        guard case .failure(let refused) = await Prober.run(["httpGet": ["path": "/", "port": .int(Int64(closed))]],
                                                            target: probeTarget()) else {
            Issue.record("closed port succeeded"); return
        }
        #expect(refused.contains("connection refused"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs /usr/bin/openssl"))
    func httpsWithoutVerification() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("probe-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=self-signed", "-days", "1",
                             "-keyout", "\(dir)/key.pem", "-out", "\(dir)/cert.pem"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try await TestProcess.run(openssl)
        // The plain server, wrapped in TLS with a self-signed certificate.
        let source = ProbeTestServer.http.replacingOccurrences(of: "print(s.server_address", with: """
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain("\(dir)/cert.pem", "\(dir)/key.pem")
            s.socket = ctx.wrap_socket(s.socket, server_side=True)
            print(s.server_address
            """)
        let server = try await ProbeTestServer.start(python: source)
        defer { server.stop() }
        #expect(await probe(server, "/ok", ["scheme": "HTTPS"]) == .success)
        #expect(await probe(server, "/fail", ["scheme": "HTTPS"]) == .failure("HTTP probe failed with statuscode: 500"))
    }

    @Test func parsesResponses() {
        let chunked = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".utf8)
        let parsed = HTTPGetProbe.parseResponse(chunked)
        #expect(parsed?.complete == true)
        #expect(parsed.map { String(decoding: $0.response.body, as: UTF8.self) } == "abcde")
        let partial = Array("HTTP/1.1 503 Busy\r\nContent-Length: 10\r\n\r\nabc".utf8)
        #expect(HTTPGetProbe.parseResponse(partial)?.complete == false)
        #expect(HTTPGetProbe.parseResponse(partial)?.response.status == 503)
        let interim = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8)
        #expect(HTTPGetProbe.parseResponse(interim)?.response.status == 204)
    }
}

// MARK: tcpSocket

@Suite struct ProbeTCPSocketTests {
    @Test func openAndClosedPorts() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        #expect(await Prober.run(["tcpSocket": ["port": .int(Int64(server.port))]], target: probeTarget()) == .success)
        let closedPort = try BoundLoopbackSocket()
        defer { closedPort.close() }
        let closed = closedPort.port
        let result = await Prober.run(["tcpSocket": ["port": .int(Int64(closed)), "host": "127.0.0.1"]], target: probeTarget())
        #expect(result == .failure("dial tcp 127.0.0.1:\(closed): connect: connection refused"))
    }
}

// MARK: exec

@Suite struct ProbeExecTests {
    @Test func exitCodesAndTimeout() async {
        let target = probeTarget()
        #expect(await Prober.run(["exec": ["command": ["sh", "-c", "exit 0"]]], target: target) == .success)
        #expect(await Prober.run(["exec": ["command": ["sh", "-c", "echo not ready; exit 1"]]], target: target)
            == .failure("not ready"))
        #expect(await Prober.run(["exec": ["command": ["false"]]], target: target)
            == .failure("command 'false' exited with 1"))
        #expect(await Prober.run(["exec": ["command": ["sleep", "120"]], "timeoutSeconds": 1], target: target)
            == .failure("command timed out"))
        #expect(await Prober.run(["exec": ["command": []]], target: target) == .failure("exec: command is empty"))
    }

    @Test func specDefaults() {
        let spec = ProbeSpec(["httpGet": [:]], kind: .liveness)
        #expect(spec == ProbeSpec(["periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 5, "failureThreshold": 3],
                                  kind: .liveness))
        #expect(spec.period == .seconds(10) && spec.timeout == .seconds(1) && spec.initialDelay == .zero)
        #expect(spec.successThreshold == 1 && spec.failureThreshold == 3)
        #expect(ProbeSpec(["successThreshold": 2], kind: .readiness).successThreshold == 2)
        #expect(ProbeSpec.terminationGracePeriod(["terminationGracePeriodSeconds": 5], podDefault: .seconds(30)) == .seconds(5))
        #expect(ProbeSpec.terminationGracePeriod([:], podDefault: .seconds(30)) == .seconds(30))
    }
}
