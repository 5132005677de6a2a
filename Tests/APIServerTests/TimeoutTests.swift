import Foundation
import Testing
@testable import APIServer

/// Connection timeouts close slow or silent clients but never a watch, and a watch whose
/// client hung up gives its per-user slot back promptly.
@Suite struct TimeoutTests {
    /// Short, but not so short that a request sent at once misses them while the whole unit
    /// suite runs in parallel on two loaded cores.
    static func short(_ c: inout APIServerConfiguration) {
        c.connectionTimeouts.header = .seconds(4)
        c.connectionTimeouts.idle = .seconds(5)
    }

    static let watchPath = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=60"

    @Test(.timeLimit(.minutes(5))) func partialRequestLineIsClosed() async throws {
        try await withRawServer(Self.short) { port in
            let c = try await RawConnection.open(port: port)
            try await c.send(Array("GET /api/v1/names".utf8))
            let ok1 = await c.wait(upTo: .seconds(20)) { _, closed in closed }
            #expect(ok1)
            await c.close()
        }
    }

    @Test(.timeLimit(.minutes(5))) func silentAndSlowClientsAreClosed() async throws {
        try await withRawServer(Self.short) { port in
            // Connects and sends nothing.
            let silent = try await RawConnection.open(port: port)
            // Sends a body far slower than the floor (1 KiB/s after the header timeout as grace).
            let slow = try await RawConnection.open(port: port)
            let head = rawRequest("POST", "/api/v1/namespaces/default/configmaps", headers: ["Content-Type: application/json",
                                                                                             "Content-Length: 100000"])
            try await slow.send(head)
            for _ in 0..<40 where !slow.isClosed {
                try? await slow.send(Array("{".utf8))
                try await Task.sleep(for: .milliseconds(250))
            }
            let ok2 = await slow.wait(upTo: .seconds(20)) { _, closed in closed }
            #expect(ok2)
            let ok3 = await silent.wait(upTo: .seconds(20)) { _, closed in closed }
            #expect(ok3)
            // An idle keep-alive connection is closed after its answer.
            let idle = try await RawConnection.open(port: port)
            try await idle.send(rawRequest("GET", "/api", keepAlive: true))
            let ok4 = await idle.wait(upTo: .seconds(20)) { bytes, closed in closed && !bytes.isEmpty }
            #expect(ok4)
            #expect(RawAnswer(bytes: idle.received, closed: true).status == 200)
            for c in [silent, slow, idle] { await c.close() }
        }
    }

    @Test(.timeLimit(.minutes(5))) func watchOutlivesIdleTimeout() async throws {
        try await withRawServer(Self.short) { port in
            let watch = try await RawConnection.open(port: port)
            try await watch.send(rawRequest("GET", Self.watchPath, keepAlive: true))
            let ok5 = await watch.wait(upTo: .seconds(20)) { bytes, _ in RawAnswer(bytes: bytes, closed: false).status == 200 }
            #expect(ok5)
            // Well past the header and idle timeouts, the watch still delivers events.
            try await Task.sleep(for: .seconds(8))
            #expect(!watch.isClosed)
            let body = Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}"#.utf8)
            // The short header timeout also applies to this POST: on a loaded machine its connection
            // may be closed before the request is read, so it is sent again (the watch is the subject).
            var created = RawAnswer(bytes: [], closed: true)
            for _ in 0..<5 where created.status == nil {
                created = try await RawConnection.exchange(port: port, rawRequest("POST", "/api/v1/namespaces/default/configmaps",
                                                                                  headers: ["Content-Type: application/json"], body: body))
            }
            // 409: an earlier attempt was written but its answer lost.
            #expect(created.status == 201 || created.status == 409)
            let ok6 = await watch.wait(upTo: .seconds(20)) { bytes, _ in String(decoding: bytes, as: UTF8.self).contains("\"late\"") }
            #expect(ok6)
            await watch.close()
        }
    }

    @Test(.timeLimit(.minutes(5))) func hungUpWatchReleasesItsSlot() async throws {
        try await withRawServer({ $0.maxWatchesPerUser = 1 }) { port in
            let first = try await RawConnection.open(port: port)
            try await first.send(rawRequest("GET", Self.watchPath, keepAlive: true))
            let ok7 = await first.wait(upTo: .seconds(20)) { bytes, _ in RawAnswer(bytes: bytes, closed: false).status == 200 }
            #expect(ok7)
            let refused = try await RawConnection.exchange(port: port, rawRequest("GET", Self.watchPath))
            #expect(refused.status == 429)
            await first.close()
            // The slot comes back within seconds, not at the watch's 60 s timeout.
            var status: Int?
            let end = ContinuousClock.now + .seconds(20)
            while status != 200, ContinuousClock.now < end {
                let c = try await RawConnection.open(port: port)
                try await c.send(rawRequest("GET", Self.watchPath, keepAlive: true))
                _ = await c.wait(upTo: .seconds(5)) { bytes, closed in closed || RawAnswer(bytes: bytes, closed: false).status != nil }
                status = RawAnswer(bytes: c.received, closed: false).status
                await c.close()
                if status != 200 { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(status == 200)
        }
    }
}
