import APIServer
import AsyncHTTPClient
import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// A kubelet server on an ephemeral port over one container whose log is `0.log` in a temp dir.
private func withServer(running: Bool = true, _ body: (_ base: String, _ pki: TestPKI, _ logPath: String, _ runtime: ShellRuntime) async throws -> Void) async throws {
    let pki = try TestPKI()
    defer { pki.remove() }
    let logPath = pki.dir + "/0.log"
    let runtime = ShellRuntime()
    if !running { runtime.stop() }
    let server = KubeletServer(port: 0, bindAddress: "127.0.0.1", clientCA: pki.pki.ca.certificatePEM,
                               lookup: FixedLookup(logPath: logPath, running: running), runtime: runtime, logger: quietLogger())
    try await withKubeletServer(server) { port in try await body("https://127.0.0.1:\(port)", pki, logPath, runtime) }
}

private func record(_ text: String, _ second: Int) -> String { "2024-05-06T07:08:\(String(format: "%02d", second))Z stdout F \(text)\n" }

@Test func kubeletServerServesLogsToTheAPIServerOnly() async throws {
    try await withServer(running: false) { base, pki, logPath, _ in
        #expect(FileManager.default.createFile(atPath: logPath, contents: Data((record("one", 1) + record("two", 2)).utf8)))
        let apiserver = try TestPKI.clientTLS(pki.pki.kubeletClient)
        #expect(try await httpsGet(base + "/containerLogs/default/p/c", tls: apiserver) == (200, "one\ntwo\n"))
        #expect(try await httpsGet(base + "/containerLogs/default/p/c?tailLines=1&timestamps=true", tls: apiserver)
            == (200, "2024-05-06T07:08:02Z two\n"))
        #expect(try await httpsGet(base + "/containerLogs/default/p/c?sinceTime=2024-05-06T07%3A08%3A02Z", tls: apiserver) == (200, "two\n"))

        let (missing, body) = try await httpsGet(base + "/containerLogs/default/nope/c", tls: apiserver)
        #expect(missing == 404)
        let status = try JSONParser.parse(body)
        #expect(status["kind"] == "Status")
        #expect(status["message"] == "pod default/nope not found")
        #expect(try await httpsGet(base + "/containerLogs/default/p/c?tailLines=x", tls: apiserver).0 == 400)

        // Without a client certificate: 401; a CA-signed certificate of someone else: 403.
        #expect(try await httpsGet(base + "/containerLogs/default/p/c", tls: TestPKI.clientTLS(nil)).0 == 401)
        #expect(try await httpsGet(base + "/containerLogs/default/p/c", tls: TestPKI.clientTLS(pki.pki.controllerManager)).0 == 403)
        // The admin is in system:masters.
        #expect(try await httpsGet(base + "/containerLogs/default/p/c", tls: TestPKI.clientTLS(pki.pki.admin)).0 == 200)
        #expect(try await httpsGet(base + "/healthz", tls: TestPKI.clientTLS(nil)) == (200, "ok"))
    }
}

@Test func httpDatesAreIMFFixdates() {
    #expect(HTTPDateHeader.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    #expect(HTTPDateHeader.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    #expect(HTTPDateHeader.format(1_709_251_199) == "Thu, 29 Feb 2024 23:59:59 GMT")
}

@Test func kubeletServerResponsesCarryDateAndServer() async throws {
    try await withServer { base, _, _, _ in
        var request = HTTPClientRequest(url: base + "/healthz")
        request.tlsConfiguration = try TestPKI.clientTLS(nil)
        let before = time(nil)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let after = time(nil)
        #expect(response.status.code == 200)
        #expect(response.headers["server"] == ["caravel-kubelet"])
        let date = try #require(response.headers["date"].first)
        #expect((before...after).map(HTTPDateHeader.format).contains(date))
    }
}

@Test func kubeletServerFollowsLogsUntilTheContainerStops() async throws {
    try await withServer { base, pki, logPath, runtime in
        #expect(FileManager.default.createFile(atPath: logPath, contents: Data(record("one", 1).utf8)))
        let appender = Task {
            try await Task.sleep(for: .milliseconds(300))
            let h = try #require(FileHandle(forWritingAtPath: logPath))
            h.seekToEndOfFile()
            h.write(Data(record("two", 2).utf8))
            try h.close()
            try await Task.sleep(for: .milliseconds(300))
            runtime.stop()
        }
        let started = ContinuousClock.now
        let (code, body) = try await httpsGet(base + "/containerLogs/default/p/c?follow=true", tls: TestPKI.clientTLS(pki.pki.kubeletClient))
        try await appender.value
        #expect(code == 200)
        #expect(body == "one\ntwo\n")
        #expect(ContinuousClock.now - started >= .milliseconds(500))
    }
}

@Test func kubeletServerExecsOverWebSocket() async throws {
    try await withServer { base, pki, _, _ in
        let tls = try TestPKI.clientTLS(pki.pki.kubeletClient)
        let wss = base.replacingOccurrences(of: "https://", with: "wss://")
        let failing = try await execSession(wss + "/exec/default/p/c?command=sh&command=-c&command=echo+hi%3B+echo+err+%3E%262%3B+exit+3&stdout=1&stderr=1",
                                            tls: tls)
        #expect(failing.stdout == "hi\n")
        #expect(failing.stderr == "err\n")
        let status = try JSONParser.parse(failing.status)
        #expect(status["status"] == "Failure")
        #expect(status["reason"] == "NonZeroExitCode")
        #expect(status[path: ["details", "causes"]]?.arrayValue?.first?["message"] == "3")

        let cat = try await execSession(wss + "/exec/default/p/c?command=cat&stdin=1&stdout=1", tls: tls, stdin: "hello")
        #expect(cat.stdout == "hello")
        #expect(try JSONParser.parse(cat.status)["status"] == "Success")

        let v4 = try await execSession(wss + "/exec/default/p/c?command=true", tls: tls, protocol: "v4.channel.k8s.io")
        #expect(try JSONParser.parse(v4.status)["status"] == "Success")

        let missing = try await execSession(wss + "/exec/default/nope/c?command=true", tls: tls)
        #expect(try JSONParser.parse(missing.status)["code"] == 404)
    }
}
