import Foundation
import KubeModel
import Testing
@testable import KubeClient

/// 429s (and 5xx with Retry-After) are retried after the server's wait, as client-go does.
@Suite struct RetryAfterTests {
    let policy = RetryAfterPolicy(maxRetries: 3, maxDelaySeconds: 10, jitterFraction: 0.5)

    @Test func waitsWhatTheServerSaysPlusJitter() {
        #expect(policy.delay(status: 429, retryAfter: "1", attempt: 1, random: 0) == .seconds(1))
        #expect(policy.delay(status: 429, retryAfter: "1", attempt: 1, random: 0.5) == .milliseconds(1250))
        #expect(policy.delay(status: 429, retryAfter: " 2 ", attempt: 2, random: 0) == .seconds(2))
        #expect(policy.delay(status: 503, retryAfter: "1", attempt: 1, random: 0) == .seconds(1))
        #expect(policy.delay(status: 429, retryAfter: "3600", attempt: 1, random: 0) == .seconds(10))  // capped
        #expect(policy.delay(status: 429, retryAfter: "0", attempt: 1, random: 0) == .milliseconds(50))
    }

    @Test func finalAnswersAreNotRetried() {
        #expect(policy.delay(status: 429, retryAfter: "1", attempt: 4, random: 0) == nil)  // out of retries
        #expect(policy.delay(status: 429, retryAfter: nil, attempt: 1, random: 0) == nil)  // no promise
        #expect(policy.delay(status: 429, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT", attempt: 1, random: 0) == nil)
        #expect(policy.delay(status: 429, retryAfter: "-1", attempt: 1, random: 0) == nil)
        #expect(policy.delay(status: 409, retryAfter: "1", attempt: 1, random: 0) == nil)
        #expect(policy.delay(status: 500, retryAfter: nil, attempt: 1, random: 0) == nil)
        #expect(RetryAfterPolicy.none.delay(status: 429, retryAfter: "1", attempt: 1, random: 0) == nil)
    }

    @Test(.timeLimit(.minutes(1))) func clientResendsAfterATooManyRequests() async throws {
        // A loopback server that refuses the first two requests with 429 and answers the third.
        let server = try ScriptedHTTPServer(answers: [
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}",
        ])
        let client = try KubeRESTClient(connection: ClusterConnection(server: "http://127.0.0.1:\(server.port)"))
        let answer = try await client.create("/api/v1/namespaces/default/configmaps", ["kind": "ConfigMap"])
        #expect(answer["ok"] == true)
        #expect(server.requestsServed == 3)
        try await client.shutdown()

        // Without retries the first 429 reaches the caller.
        let refusing = try ScriptedHTTPServer(answers: [
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ])
        let impatient = try KubeRESTClient(connection: ClusterConnection(server: "http://127.0.0.1:\(refusing.port)"),
                                           options: .init(retryAfter: .none))
        await #expect(throws: KubeAPIError.self) { _ = try await impatient.get("/api/v1/namespaces") }
        #expect(refusing.requestsServed == 1)
        try await impatient.shutdown()
    }
}

/// Answers each connection with the next scripted response (then closes it), on a thread of
/// its own; stops after the last answer.
final class ScriptedHTTPServer: Sendable {
    let port: Int
    private let served = Locked(0)
    var requestsServed: Int { served.value }

    init(answers: [String]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { close(fd); throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let served = self.served
        Thread.detachNewThread {
            defer { close(fd) }
            for answer in answers {
                let conn = accept(fd, nil, nil)
                guard conn >= 0 else { return }
                Self.readRequest(conn)
                served.withLock { $0 += 1 }
                let bytes = Array(answer.utf8)
                _ = bytes.withUnsafeBytes { write(conn, $0.baseAddress, $0.count) }
                close(conn)
            }
        }
    }

    /// Reads the head and any Content-Length body of one request.
    private static func readRequest(_ conn: Int32) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(conn, $0.baseAddress, $0.count) }
            guard n > 0 else { return }
            data += buffer[0..<n]
            let text = String(decoding: data, as: UTF8.self)
            guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
            let head = text[..<headEnd.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if text.utf8.count - text.utf8.distance(from: text.utf8.startIndex, to: headEnd.upperBound) >= length { return }
        }
    }
}
