import Foundation
import KubeModel
import NIOCore
import NIOPosix

/// `httpGet` probes (and hooks): an HTTP/1.1 GET with the kubelet's redirect rules.
/// 200–399 is success. Same-host redirects are followed (at most 10); a redirect to another
/// host ends the probe successfully, as the kubelet does (it only warns).
enum HTTPGetProbe {
    static let probeUserAgent = "kube-probe/1.33"
    static let hookUserAgent = "kube-lifecycle/1.33"
    /// The most of a body kept (Kubernetes reads no more than this).
    static let maxBody = 10 * 1024

    static func run(_ action: JSONValue, target: ProbeTarget, timeout: Duration) async -> ProbeResult {
        switch await get(action, target: target, deadline: .now + timeout, userAgent: probeUserAgent) {
        case .failure(let e):
            return .failure(e.description)
        case .success(let response):
            guard (200..<400).contains(response.status) else {
                return .failure("HTTP probe failed with statuscode: \(response.status)")
            }
            return .success
        }
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// Performs the GET an `HTTPGetAction` describes, following same-host redirects.
    static func get(_ action: JSONValue, target: ProbeTarget, deadline: ContinuousClock.Instant,
                    userAgent: String) async -> Result<Response, ProbeError> {
        let port: Int
        switch ProbeSpec.resolvePort(action["port"], container: target.container) {
        case .success(let p): port = p
        case .failure(let e): return .failure(e)
        }
        let scheme = (action["scheme"]?.stringValue ?? "HTTP").lowercased()
        guard scheme == "http" || scheme == "https" else { return .failure(ProbeError("unsupported scheme: \(scheme)")) }
        let host = action["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? target.podIP
        var path = action["path"]?.stringValue ?? "/"
        if !path.hasPrefix("/") { path = "/" + path }

        var headers: [(name: String, value: String)] = []
        var hostOverride: String?
        for h in action["httpHeaders"]?.arrayValue ?? [] {
            guard let name = h["name"]?.stringValue, !name.isEmpty else { continue }
            let value = h["value"]?.stringValue ?? ""
            // Header values must not smuggle extra lines into the request.
            guard !name.contains(where: { $0.isNewline || $0 == ":" }), !value.contains(where: \.isNewline) else { continue }
            if name.caseInsensitiveCompare("Host") == .orderedSame { hostOverride = value } else { headers.append((name, value)) }
        }
        if !headers.contains(where: { $0.name.caseInsensitiveCompare("User-Agent") == .orderedSame }) {
            headers.append(("User-Agent", userAgent))
        }
        if !headers.contains(where: { $0.name.caseInsensitiveCompare("Accept") == .orderedSame }) {
            headers.append(("Accept", "*/*"))
        }

        var url = RequestURL(scheme: scheme, host: host, port: port, path: path)
        let originalHost = host.lowercased()
        for _ in 0...10 {
            let response: Response
            switch await fetch(url, hostHeader: hostOverride ?? ProbeConnection.hostPort(url.host, url.port),
                               headers: headers, deadline: deadline) {
            case .failure(let e): return .failure(e)
            case .success(let r): response = r
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.header("Location"),
                  let next = url.resolve(location) else { return .success(response) }
            // Another host: stop and report the redirect itself, which counts as success.
            guard next.url.host.lowercased() == originalHost else { return .success(response) }
            if !next.relative { hostOverride = nil }
            url = next.url
        }
        return .failure(ProbeError("Get \"\(url)\": stopped after 10 redirects"))
    }

    private static func fetch(_ url: RequestURL, hostHeader: String, headers: [(name: String, value: String)],
                              deadline: ContinuousClock.Instant) async -> Result<Response, ProbeError> {
        var request = "GET \(url.path) HTTP/1.1\r\nHost: \(hostHeader)\r\n"
        for h in headers { request += "\(h.name): \(h.value)\r\n" }
        request += "Connection: close\r\n\r\n"
        let bytes = Array(request.utf8)
        do {
            let exchange = try await ProbeConnection.exchange(
                host: url.host, port: url.port, tls: url.scheme == "https", serverName: url.host, deadline: deadline,
                session: { HTTPResponseSession(request: bytes) })
            guard let parsed = parseResponse(exchange.received) else {
                return .failure(ProbeError("Get \"\(url)\": malformed HTTP response or connection closed"))
            }
            return .success(parsed.response)
        } catch is ProbeConnection.Timeout {
            return .failure(ProbeError("Get \"\(url)\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"))
        } catch {
            let hp = ProbeConnection.hostPort(url.host, url.port)
            return .failure(ProbeError("Get \"\(url)\": dial tcp \(hp): \(ProbeConnection.describe(error))"))
        }
    }

    /// A parsed (possibly partial) response: `complete` once the whole body (or `maxBody` of
    /// it) has arrived.
    static func parseResponse(_ bytes: [UInt8]) -> (response: Response, complete: Bool)? {
        var start = 0
        while true {
            guard let headerEnd = find([13, 10, 13, 10], in: bytes, from: start) else { return nil }
            let head = String(decoding: bytes[start..<headerEnd], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else { return nil }
            let bodyStart = headerEnd + 4
            // Interim responses (100 Continue) precede the real one.
            if (100..<200).contains(status) { start = bodyStart; continue }
            var headers: [(name: String, value: String)] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers.append((String(line[..<colon]).trimmingCharacters(in: .whitespaces),
                                String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
            }
            var response = Response(status: status, headers: headers, body: [])
            let raw = bytes[bodyStart...]
            if status == 204 || status == 304 { return (response, true) }
            if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
                let (body, done) = dechunk(raw)
                response.body = Array(body.prefix(maxBody))
                return (response, done || body.count >= maxBody)
            }
            response.body = Array(raw.prefix(maxBody))
            if let length = response.header("Content-Length").flatMap({ Int($0) }) {
                return (response, raw.count >= length || raw.count >= maxBody)
            }
            return (response, raw.count >= maxBody)
        }
    }

    /// Decodes a chunked body; `done` once the last chunk arrived.
    private static func dechunk(_ raw: ArraySlice<UInt8>) -> (body: [UInt8], done: Bool) {
        var body: [UInt8] = []
        var i = raw.startIndex
        while let lineEnd = find([13, 10], in: raw, from: i) {
            let sizeText = String(decoding: raw[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return (body, true) }
            if size == 0 { return (body, true) }
            let dataStart = lineEnd + 2
            guard raw.endIndex >= dataStart + size else {
                body += raw[dataStart..<raw.endIndex]
                return (body, false)
            }
            body += raw[dataStart..<dataStart + size]
            i = dataStart + size + 2
            if i > raw.endIndex { break }
        }
        return (body, false)
    }

    private static func find<C: RandomAccessCollection>(_ needle: [UInt8], in bytes: C, from: C.Index) -> C.Index?
    where C.Element == UInt8, C.Index == Int {
        guard bytes.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= bytes.endIndex {
            if bytes[i] == needle[0] && bytes[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// The parts of a request URL the prober needs.
struct RequestURL: CustomStringConvertible, Sendable {
    var scheme: String
    var host: String
    var port: Int
    /// Path and query, starting with "/".
    var path: String

    var description: String { "\(scheme)://\(ProbeConnection.hostPort(host, port))\(path)" }

    /// The target of a `Location` header; `relative` when it named no host.
    func resolve(_ location: String) -> (url: RequestURL, relative: Bool)? {
        guard let base = URL(string: description), let u = URL(string: location, relativeTo: base)?.absoluteURL,
              let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              var host = u.host, !host.isEmpty else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // Keep the path as sent (percent-encoded), not decoded.
        let parts = URLComponents(url: u, resolvingAgainstBaseURL: true)
        var path = parts?.percentEncodedPath ?? "/"
        if path.isEmpty { path = "/" }
        if let q = parts?.percentEncodedQuery { path += "?" + q }
        let port = u.port ?? (scheme == "https" ? 443 : 80)
        return (RequestURL(scheme: scheme, host: host, port: port, path: path), URL(string: location)?.host == nil)
    }
}

/// Sends the request, then reads until the response is complete (or the peer closes).
private final class HTTPResponseSession: ProbeSession {
    let request: [UInt8]
    init(request: [UInt8]) { self.request = request }
    func start() -> [UInt8] { request }
    func receive(_ received: [UInt8]) -> (reply: [UInt8], done: Bool) {
        ([], HTTPGetProbe.parseResponse(received)?.complete ?? (received.count > 64 * 1024))
    }
}
