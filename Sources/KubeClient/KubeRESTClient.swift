import AsyncHTTPClient
import KubeModel
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// A small Kubernetes REST client: JSON in, JSON out, over one shared AsyncHTTPClient.
///
/// Paths are absolute API paths without a query (`/api/v1/namespaces/ns/configmaps`, see
/// `ResourcePath`); query parameters go in `query`. Non-2xx answers throw `KubeAPIError`.
/// Call `shutdown()` once when done: the underlying `HTTPClient` must be shut down explicitly
/// (debug builds trap when it is dropped while running).
public final class KubeRESTClient: Sendable {
    /// Tuning knobs; the defaults suit a controller talking to one server.
    public struct Options: Sendable {
        /// Deadline for the response head (connect, send, server think time). AsyncHTTPClient does
        /// not apply it to the body, which is what lets a watch stream stay open.
        public var requestTimeout: Duration
        /// HTTP/1 connections kept per host; every open watch holds one of them.
        public var maxConnectionsPerHost: Int
        /// Largest response body accepted (big LISTs are the only large answers).
        public var maxResponseBytes: Int
        /// Sent as `User-Agent`; servers log it with each request.
        public var userAgent: String
        /// Which answers are tried again after the server's `Retry-After` (429s, as client-go).
        public var retryAfter: RetryAfterPolicy

        public init(requestTimeout: Duration = .seconds(30), maxConnectionsPerHost: Int = 64,
                    maxResponseBytes: Int = 256 << 20, userAgent: String = "caravel-kubeclient/0.1",
                    retryAfter: RetryAfterPolicy = RetryAfterPolicy()) {
            self.requestTimeout = requestTimeout
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxResponseBytes = maxResponseBytes
            self.userAgent = userAgent
            self.retryAfter = retryAfter
        }
    }

    /// Patch flavours, named by their `Content-Type`.
    /// PATCH content types, as the API server reads them.
    public typealias PatchType = KubeModel.PatchType

    /// The connection this client was built from (server, namespace, credentials).
    public let connection: ClusterConnection
    /// The options the client was built with.
    public let options: Options
    private let http: HTTPClient
    private let baseHeaders: HTTPHeaders
    /// Index into `connection.servers` of the server requests go to; moves on when one
    /// cannot be reached (`ServerFailover`).
    private let currentServer = NIOLockedValueBox(0)

    /// Builds a client; reads any CA, certificate, key or token files the connection refers to.
    public init(connection: ClusterConnection, options: Options = Options()) throws {
        // Everything that can throw happens before the HTTPClient exists, which must never be
        // dropped without a shutdown.
        let tls = try Transport.tlsConfiguration(for: connection)
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: options.userAgent)
        if let auth = try Transport.authorization(for: connection) { headers.add(name: "Authorization", value: auth) }

        var config = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(60),
                                  concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, options.maxConnectionsPerHost)))
        // With other servers to try, a refused connection fails at once instead of being
        // retried until the connect timeout.
        config.connectionPool.retryConnectionEstablishment = connection.fallbackServers.isEmpty
        // No tracer is ever installed, yet with the default one every request opened a no-op
        // span and parsed its URL with Foundation to name the span's attributes.
        config.tracing.tracer = nil
        self.connection = connection
        self.options = options
        self.baseHeaders = headers
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    /// Builds a client from a kubeconfig file (see `Kubeconfig.load`).
    public convenience init(kubeconfigPath: String? = nil, context: String? = nil, options: Options = Options()) throws {
        try self.init(connection: Kubeconfig.load(path: kubeconfigPath, context: context), options: options)
    }

    /// Closes all connections; in-flight requests and open watches fail. Call exactly once.
    /// Polls `/readyz` until it answers 200 (a component starting next to its API server);
    /// false once the calling task is cancelled.
    public func waitUntilReady(pollInterval: Duration = .milliseconds(100)) async -> Bool {
        while !Task.isCancelled {
            if (try? await raw("GET", "/readyz")) != nil { return true }
            do { try await Task.sleep(for: pollInterval) } catch { return false }
        }
        return false
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: - verbs

    /// GET one object (or any JSON endpoint such as `/version`).
    public func get(_ path: String, query: [String: String] = [:]) async throws -> JSONValue {
        try await json("GET", path, query: query)
    }

    /// GET a collection; the result is the `…List` object, whose `metadata.resourceVersion` is
    /// where a following watch should start.
    public func list(_ path: String, query: [String: String] = [:]) async throws -> JSONValue {
        try await json("GET", path, query: query)
    }

    /// POST `body` to a collection path; returns the created object.
    public func create(_ path: String, _ body: JSONValue, query: [String: String] = [:]) async throws -> JSONValue {
        try await json("POST", path, query: query, body: body)
    }

    /// PUT `body` to an object path; returns the stored object. A stale `resourceVersion` in
    /// `body` yields a 409 `Conflict`.
    public func update(_ path: String, _ body: JSONValue, query: [String: String] = [:]) async throws -> JSONValue {
        try await json("PUT", path, query: query, body: body)
    }

    /// PATCH an object; `type` picks the patch semantics.
    public func patch(_ path: String, _ body: JSONValue, type: PatchType = .merge,
                      query: [String: String] = [:]) async throws -> JSONValue {
        try await json("PATCH", path, query: query, body: body, contentType: type.rawValue)
    }

    /// DELETE an object, optionally with `DeleteOptions`; returns what the server answers (the
    /// object while finalizers hold it, or a `Status`).
    @discardableResult
    public func delete(_ path: String, options deleteOptions: JSONValue? = nil,
                       query: [String: String] = [:]) async throws -> JSONValue {
        try await json("DELETE", path, query: query, body: deleteOptions)
    }

    /// Any request, answering the raw 2xx body (for non-JSON endpoints such as `/readyz`).
    /// `headers` are added to (or, for `Accept`, replace) the client's own. An answer the
    /// server asks to retry (`options.retryAfter`) is sent again after the wait it names.
    public func raw(_ method: String, _ path: String, query: [String: String] = [:],
                    body: [UInt8]? = nil, contentType: String? = nil,
                    headers: [(String, String)] = []) async throws -> [UInt8] {
        var attempt = 0
        while true {
            let response = try await execute(method, path, query: query, body: body, contentType: contentType,
                                              deadline: .now() + timeAmount(options.requestTimeout), headers: headers)
            let bytes = try await response.body.collect(upTo: options.maxResponseBytes)
            let payload = Array(bytes.readableBytesView)
            let code = Int(response.status.code)
            if (200..<300).contains(code) { return payload }
            attempt += 1
            if let wait = options.retryAfter.delay(status: code, retryAfter: response.headers.first(name: "Retry-After"),
                                                   attempt: attempt, random: Double.random(in: 0..<1)) {
                try await Task.sleep(for: wait)
                continue
            }
            throw KubeAPIError(httpCode: code, httpReason: response.status.reasonPhrase, body: payload)
        }
    }

    // MARK: - watch

    /// Opens a watch on a collection path (`watch=true` is added to `query`; pass
    /// `resourceVersion`, `labelSelector`, `allowWatchBookmarks`, `timeoutSeconds` as needed).
    ///
    /// Returns once the server has accepted the watch (non-2xx answers throw `KubeAPIError` here).
    /// The stream is pull-based: events are read from the connection as the consumer asks, so a
    /// slow consumer applies TCP back-pressure instead of growing a buffer. Cancelling the
    /// consuming task, or dropping the stream, closes the request. The stream ends when the
    /// server closes it (e.g. `timeoutSeconds`), and throws on a broken connection or bad line.
    /// Iterate it from one task only.
    public func watch(_ path: String, query: [String: String] = [:],
                      headers: [(String, String)] = []) async throws -> AsyncThrowingStream<WatchEvent, Error> {
        var q = query
        q["watch"] = "true"
        // The deadline only covers the response head; the body may then stream indefinitely.
        let response = try await execute("GET", path, query: q, body: nil, contentType: nil,
                                          deadline: .now() + timeAmount(options.requestTimeout), headers: headers)
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
            throw KubeAPIError(httpCode: Int(response.status.code), httpReason: response.status.reasonPhrase, body: body)
        }
        let cursor = WatchCursor(body: response.body.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }

    /// GETs `path` and streams the body as it arrives (`pods/log?follow=true`). Non-2xx
    /// answers throw `KubeAPIError` here; the stream ends when the server closes the body.
    public func stream(_ path: String, query: [String: String] = [:]) async throws -> AsyncThrowingStream<[UInt8], Error> {
        let response = try await execute("GET", path, query: query, body: nil, contentType: nil,
                                          deadline: .now() + timeAmount(options.requestTimeout))
        guard (200..<300).contains(response.status.code) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
            throw KubeAPIError(httpCode: Int(response.status.code), httpReason: response.status.reasonPhrase, body: body)
        }
        let cursor = ByteCursor(body: response.body.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: { try await cursor.next() })
    }

    // MARK: - plumbing

    private func json(_ method: String, _ path: String, query: [String: String],
                      body: JSONValue? = nil, contentType: String = "application/json") async throws -> JSONValue {
        let payload = try await raw(method, path, query: query, body: body.map(JSONWriter.bytes),
                                    contentType: body == nil ? nil : contentType)
        if payload.isEmpty { return .null }
        return try JSONParser.parse(payload)
    }

    /// Sends the request to the current server; when it cannot be reached, to the next ones
    /// in turn (each at most once), and the one that answers becomes the current server.
    private func execute(_ method: String, _ path: String, query: [String: String], body: [UInt8]?,
                         contentType: String?, deadline: NIODeadline,
                         headers extra: [(String, String)] = []) async throws -> HTTPClientResponse {
        let servers = connection.servers
        var index = currentServer.withLockedValue { $0 } % servers.count
        var attempts = 1
        while true {
            do {
                let response = try await execute(server: servers[index], method, path, query: query, body: body, contentType: contentType,
                                                 deadline: deadline, headers: extra)
                let chosen = index
                currentServer.withLockedValue { $0 = chosen }
                return response
            } catch where attempts < servers.count && ServerFailover.shouldTryNext(error, method: method) {
                attempts += 1
                index = (index + 1) % servers.count
            }
        }
    }

    private func execute(server: String, _ method: String, _ path: String, query: [String: String], body: [UInt8]?,
                         contentType: String?, deadline: NIODeadline,
                         headers extra: [(String, String)]) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url(server: server, path, query: query))
        request.method = HTTPMethod(rawValue: method)
        request.headers = baseHeaders
        for (name, value) in extra {
            if name.lowercased() == "accept" { request.headers.remove(name: "Accept") }
            request.headers.add(name: name, value: value)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(body)
        }
        return try await http.execute(request, deadline: deadline)
    }

    /// `server + path + ?query`, with query keys sorted so URLs are deterministic (logs, tests).
    func url(_ path: String, query: [String: String]) -> String {
        url(server: connection.servers[currentServer.withLockedValue { $0 } % connection.servers.count], path, query: query)
    }

    func url(server: String, _ path: String, query: [String: String]) -> String {
        var s = server + (path.hasPrefix("/") ? path : "/" + path)
        if !query.isEmpty {
            s += "?" + query.sorted { $0.key < $1.key }
                .map { PercentEncoding.encode($0.key) + "=" + PercentEncoding.encode($0.value) }
                .joined(separator: "&")
        }
        return s
    }

    private func timeAmount(_ d: Duration) -> TimeAmount {
        let (seconds, attoseconds) = d.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Reads watch events off a response body. The state is mutable and not locked: it is only
/// touched from `next()`, which AsyncThrowingStream calls from its single consumer, one call at
/// a time; `busy` turns a misuse (two tasks iterating one stream) into an error, not a race.
private final class WatchCursor: @unchecked Sendable {
    private var body: HTTPClientResponse.Body.AsyncIterator
    private var splitter = LineSplitter()
    private var ready: [WatchEvent] = []
    private var readyIndex = 0
    private var ended = false
    private let busy = NIOLockedValueBox(false)

    init(body: HTTPClientResponse.Body.AsyncIterator) { self.body = body }

    func next() async throws -> WatchEvent? {
        let entered = busy.withLockedValue { inUse -> Bool in
            if inUse { return false }
            inUse = true
            return true
        }
        guard entered else { throw WatchDecodingError("a watch stream was iterated from two tasks at once") }
        defer { busy.withLockedValue { $0 = false } }

        while true {
            if readyIndex < ready.count {
                readyIndex += 1
                return ready[readyIndex - 1]
            }
            if ended { return nil }
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            guard let chunk = try await body.next() else {
                ended = true
                if let tail = splitter.finish() { ready.append(try WatchEvent.decode(line: tail)) }
                continue
            }
            for line in try splitter.feed(chunk.readableBytesView) {
                ready.append(try WatchEvent.decode(line: line))
            }
        }
    }
}

/// Reads a response body chunk by chunk for `stream`; only its single consumer calls `next()`.
private final class ByteCursor: @unchecked Sendable {
    private var body: HTTPClientResponse.Body.AsyncIterator

    init(body: HTTPClientResponse.Body.AsyncIterator) { self.body = body }

    func next() async throws -> [UInt8]? {
        guard let chunk = try await body.next() else { return nil }
        return Array(chunk.readableBytesView)
    }
}
