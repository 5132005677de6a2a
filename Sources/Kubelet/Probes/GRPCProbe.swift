import KubeModel

/// `grpc` probes: one `grpc.health.v1.Health/Check` call over cleartext HTTP/2 (h2c with prior
/// knowledge, as the kubelet does); SERVING is success. The HTTP/2 needed for one unary call
/// is small enough to write out here rather than pull in a gRPC stack: the request headers use
/// HPACK literals (no table state), and the response headers need not be decoded at all.
enum GRPCProbe {
    static func run(_ action: JSONValue, target: ProbeTarget, timeout: Duration) async -> ProbeResult {
        guard let portNumber = action["port"]?.intValue, portNumber > 0, portNumber < 65536 else {
            return .failure("invalid port number: \(action["port"] ?? .null)")
        }
        let port = Int(portNumber)
        let host = target.podIP
        let authority = ProbeConnection.hostPort(host, port)
        let request = requestBytes(authority: authority, service: action["service"]?.stringValue ?? "")
        do {
            let exchange = try await ProbeConnection.exchange(host: host, port: port, deadline: .now + timeout,
                                                              session: { GRPCSession(request: request) })
            switch scan(exchange.received).outcome {
            case .some(.success(1)): return .success
            case .some(.success(let status)):
                return .failure("service unhealthy (responded with \"\(statusName(status))\")")
            case .some(.failure(let e)): return .failure(e.description)
            case .none: return .failure("rpc error: connection closed before the health response")
            }
        } catch is ProbeConnection.Timeout {
            return .failure("timeout: health rpc did not complete within \(timeout.secondsDescription)")
        } catch {
            return .failure("error: failed to connect service \"\(authority)\": \(ProbeConnection.describe(error))")
        }
    }

    static func statusName(_ status: Int) -> String {
        switch status {
        case 0: "UNKNOWN"
        case 1: "SERVING"
        case 2: "NOT_SERVING"
        case 3: "SERVICE_UNKNOWN"
        default: "\(status)"
        }
    }

    // MARK: HTTP/2 framing

    private static let frameData: UInt8 = 0, frameHeaders: UInt8 = 1, frameRSTStream: UInt8 = 3,
                       frameSettings: UInt8 = 4, framePing: UInt8 = 6, frameGoAway: UInt8 = 7
    private static let flagEndStream: UInt8 = 0x1, flagAck: UInt8 = 0x1, flagEndHeaders: UInt8 = 0x4,
                       flagPadded: UInt8 = 0x8

    static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags,
                UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
            + payload
    }

    /// Connection preface, our (empty) SETTINGS, and the whole call on stream 1.
    static func requestBytes(authority: String, service: String) -> [UInt8] {
        let headers: [(String, String)] = [
            (":method", "POST"), (":scheme", "http"), (":path", "/grpc.health.v1.Health/Check"),
            (":authority", authority), ("content-type", "application/grpc"), ("te", "trailers"),
            ("user-agent", "kube-probe/1.33"),
        ]
        var block: [UInt8] = []
        for (name, value) in headers {
            block.append(0x00)  // literal header field without indexing, new name
            block += hpackString(name) + hpackString(value)
        }
        // HealthCheckRequest { string service = 1; } behind the 5-byte gRPC message prefix.
        let s = Array(service.utf8)
        let message: [UInt8] = s.isEmpty ? [] : [0x0a] + varint(UInt64(s.count)) + s
        let n = message.count
        let grpcMessage: [UInt8] = [0, UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + message
        return Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
            + frame(type: frameSettings, flags: 0, stream: 0, payload: [])
            + frame(type: frameHeaders, flags: flagEndHeaders, stream: 1, payload: block)
            + frame(type: frameData, flags: flagEndStream, stream: 1, payload: grpcMessage)
    }

    /// An HPACK string literal, not Huffman-coded (7-bit prefix length).
    private static func hpackString(_ s: String) -> [UInt8] {
        let bytes = Array(s.utf8)
        return hpackInteger(bytes.count, prefixBits: 7) + bytes
    }

    private static func hpackInteger(_ value: Int, prefixBits: Int) -> [UInt8] {
        let max = (1 << prefixBits) - 1
        if value < max { return [UInt8(value)] }
        var out: [UInt8] = [UInt8(max)]
        var rest = value - max
        while rest >= 128 {
            out.append(UInt8(rest & 0x7f | 0x80))
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        repeat {
            out.append(UInt8(v & 0x7f) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v > 0
        return out
    }

    /// Reads the frames received so far: the replies owed (SETTINGS and PING acks, for frames
    /// starting at `from`) and, once known, the health status or the error that ended the call.
    static func scan(_ bytes: [UInt8], from: Int = 0) -> (replies: [UInt8], consumed: Int,
                                                         outcome: Result<Int, ProbeError>?) {
        var replies: [UInt8] = []
        var data: [UInt8] = []
        var i = 0
        while i + 9 <= bytes.count {
            let length = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            let type = bytes[i + 3], flags = bytes[i + 4]
            let stream = (UInt32(bytes[i + 5]) & 0x7f) << 24 | UInt32(bytes[i + 6]) << 16
                | UInt32(bytes[i + 7]) << 8 | UInt32(bytes[i + 8])
            guard i + 9 + length <= bytes.count else { break }
            var payload = Array(bytes[(i + 9)..<(i + 9 + length)])
            let isNew = i >= from
            i += 9 + length
            switch type {
            case frameSettings where flags & flagAck == 0 && isNew:
                replies += frame(type: frameSettings, flags: flagAck, stream: 0, payload: [])
            case framePing where flags & flagAck == 0 && isNew:
                replies += frame(type: framePing, flags: flagAck, stream: 0, payload: payload)
            case frameGoAway:
                let code = payload.count >= 8 ? payload[4..<8].reduce(0) { $0 << 8 | Int($1) } : -1
                return (replies, i, .failure(ProbeError("rpc error: connection closed by server (GOAWAY, error code \(code))")))
            case frameRSTStream where stream == 1:
                let code = payload.count >= 4 ? payload[0..<4].reduce(0) { $0 << 8 | Int($1) } : -1
                return (replies, i, .failure(ProbeError("rpc error: stream reset by server (error code \(code))")))
            case frameData where stream == 1:
                if flags & flagPadded != 0, let pad = payload.first {
                    payload = Array(payload.dropFirst().dropLast(min(Int(pad), max(payload.count - 1, 0))))
                }
                data += payload
                if let status = healthStatus(data) { return (replies, i, .success(status)) }
            case frameHeaders where stream == 1 && flags & flagEndStream != 0:
                // Trailers with no message before them: the call failed (unknown service,
                // unimplemented); the status is in HPACK-coded trailers we do not decode.
                if healthStatus(data) == nil {
                    return (replies, i, .failure(ProbeError("rpc error: health check returned no response (unknown service or health service not implemented)")))
                }
            default:
                break
            }
        }
        return (replies, i, nil)
    }

    /// The `status` (field 1) of a complete HealthCheckResponse message; nil until complete.
    static func healthStatus(_ data: [UInt8]) -> Int? {
        guard data.count >= 5 else { return nil }
        let length = data[1..<5].reduce(0) { $0 << 8 | Int($1) }
        guard data.count >= 5 + length else { return nil }
        var i = 5, status = 0  // proto3 default: UNKNOWN
        let end = 5 + length
        while i < end {
            let (key, n) = readVarint(data, i, end)
            guard n > 0 else { break }
            i += n
            switch key & 7 {
            case 0:
                let (v, m) = readVarint(data, i, end)
                guard m > 0 else { return status }
                if key >> 3 == 1 { status = Int(truncatingIfNeeded: v) }
                i += m
            case 2:
                let (len, m) = readVarint(data, i, end)
                guard m > 0 else { return status }
                i += m + Int(truncatingIfNeeded: len)
            case 1: i += 8
            case 5: i += 4
            default: return status
            }
        }
        return status
    }

    private static func readVarint(_ d: [UInt8], _ start: Int, _ end: Int) -> (UInt64, Int) {
        var value: UInt64 = 0, shift: UInt64 = 0, i = start
        while i < end && shift < 64 {
            let b = d[i]
            value |= UInt64(b & 0x7f) << shift
            i += 1
            if b & 0x80 == 0 { return (value, i - start) }
            shift += 7
        }
        return (0, 0)
    }
}

/// Sends the call, acknowledges the server's SETTINGS and PINGs, stops once the outcome is known.
private final class GRPCSession: ProbeSession {
    let request: [UInt8]
    private var consumed = 0

    init(request: [UInt8]) { self.request = request }
    func start() -> [UInt8] { request }

    func receive(_ received: [UInt8]) -> (reply: [UInt8], done: Bool) {
        let result = GRPCProbe.scan(received, from: consumed)
        consumed = result.consumed
        return (result.replies, result.outcome != nil)
    }
}
