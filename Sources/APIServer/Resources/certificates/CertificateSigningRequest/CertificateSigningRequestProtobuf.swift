import Foundation
import KubeModel

/// Decodes CertificateSigningRequest protobuf bodies: `kubectl certificate approve/deny` PUTs
/// the approval subresource that way, and the generated schema has no certificates.k8s.io
/// types. Field numbers as in k8s.io/api/certificates/v1/generated.proto; metadata keeps what
/// an update needs (name, uid, resourceVersion).
enum CertificateSigningRequestProtobuf {
    typealias Reader = AccessReviewProtobuf.Reader

    /// One field: number, wire type, the varint value or a reader over its bytes.
    static func next(_ r: inout Reader) throws(APIError) -> (Int, UInt64, Reader?) {
        let tag = try r.varint()
        let number = Int(tag >> 3)
        switch tag & 7 {
        case 0: return (number, try r.varint(), nil)
        case 2:
            let n = try r.varint()
            guard n <= UInt64(r.end - r.i) else { throw AccessReviewProtobuf.malformed }
            let sub = Reader(bytes: r.bytes, i: r.i, end: r.i + Int(n))
            r.i += Int(n)
            return (number, 0, sub)
        case 1: r.i += 8
        case 5: r.i += 4
        default: throw AccessReviewProtobuf.malformed
        }
        guard r.i <= r.end else { throw AccessReviewProtobuf.malformed }
        return (number, 0, nil)
    }

    static func decode(_ data: [UInt8]) throws(APIError) -> JSONValue {
        guard data.count >= 4, Array(data[0..<4]) == KubeProtobuf.magic else {
            throw APIError.badRequest("protobuf body does not start with the Kubernetes magic number")
        }
        var envelope = Reader(bytes: data, i: 4, end: data.count)
        var object: JSONValue = [:]
        var raw: Reader?
        while !envelope.isAtEnd {
            let (n, _, sub) = try next(&envelope)
            guard var sub else { continue }
            if n == 1 {
                while !sub.isAtEnd {
                    let (f, _, s) = try next(&sub)
                    if f == 1, let s { object["apiVersion"] = .string(s.string) }
                    if f == 2, let s { object["kind"] = .string(s.string) }
                }
            } else if n == 2 {
                raw = sub
            }
        }
        guard var csr = raw else { return object }
        while !csr.isAtEnd {
            let (n, _, sub) = try next(&csr)
            guard let sub else { continue }
            switch n {
            case 1: object["metadata"] = try metadata(sub)
            case 2: object["spec"] = try spec(sub)
            case 3: object["status"] = try status(sub)
            default: break
            }
        }
        return object
    }

    static func metadata(_ reader: Reader) throws(APIError) -> JSONValue {
        var r = reader
        var out: JSONValue = [:]
        while !r.isAtEnd {
            let (n, _, sub) = try next(&r)
            guard let sub else { continue }
            switch n {
            case 1: out["name"] = .string(sub.string)
            case 2: out["generateName"] = .string(sub.string)
            case 5: out["uid"] = .string(sub.string)
            case 6: out["resourceVersion"] = .string(sub.string)
            default: break
            }
        }
        return out
    }

    static func spec(_ reader: Reader) throws(APIError) -> JSONValue {
        var r = reader
        var out: JSONValue = [:]
        var usages: [JSONValue] = [], groups: [JSONValue] = []
        while !r.isAtEnd {
            let (n, value, sub) = try next(&r)
            switch (n, sub) {
            case (1, let s?): out["request"] = .string(Data(s.bytes[s.i..<s.end]).base64EncodedString())
            case (2, let s?): out["username"] = .string(s.string)
            case (3, let s?): out["uid"] = .string(s.string)
            case (4, let s?): groups.append(.string(s.string))
            case (5, let s?): usages.append(.string(s.string))
            case (7, let s?): out["signerName"] = .string(s.string)
            case (8, nil): out["expirationSeconds"] = .int(Int64(Int32(truncatingIfNeeded: value)))
            default: break
            }
        }
        if !usages.isEmpty { out["usages"] = .array(usages) }
        if !groups.isEmpty { out["groups"] = .array(groups) }
        return out
    }

    static func status(_ reader: Reader) throws(APIError) -> JSONValue {
        var r = reader
        var out: JSONValue = [:]
        var conditions: [JSONValue] = []
        while !r.isAtEnd {
            let (n, _, sub) = try next(&r)
            guard let sub else { continue }
            if n == 1 { conditions.append(try condition(sub)) }
            if n == 2, sub.end > sub.i { out["certificate"] = .string(Data(sub.bytes[sub.i..<sub.end]).base64EncodedString()) }
        }
        if !conditions.isEmpty { out["conditions"] = .array(conditions) }
        return out
    }

    static func condition(_ reader: Reader) throws(APIError) -> JSONValue {
        var r = reader
        var out: JSONValue = [:]
        while !r.isAtEnd {
            let (n, _, sub) = try next(&r)
            guard let sub else { continue }
            switch n {
            case 1: out["type"] = .string(sub.string)
            case 2: out["reason"] = .string(sub.string)
            case 3: out["message"] = .string(sub.string)
            case 4: if let t = try time(sub) { out["lastUpdateTime"] = .string(t) }
            case 5: if let t = try time(sub) { out["lastTransitionTime"] = .string(t) }
            case 6: out["status"] = .string(sub.string)
            default: break
            }
        }
        return out
    }

    /// meta/v1 Time (seconds, nanos) as RFC 3339; nil for Go's zero time.
    static func time(_ reader: Reader) throws(APIError) -> String? {
        var r = reader
        var seconds: Int64 = 0
        while !r.isAtEnd {
            let (n, value, _) = try next(&r)
            if n == 1 { seconds = Int64(bitPattern: value) }
        }
        guard seconds != 0 else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
