import Foundation
import KubeModel

/// Decodes (Self)SubjectAccessReview protobuf bodies, which `kubectl auth can-i` sends. The
/// generated protobuf schema covers no authorization.k8s.io types, so the few fields a review
/// carries are read here by hand, field numbers as in k8s.io/api/authorization/v1/generated.proto.
enum AccessReviewProtobuf {
    struct Reader {
        let bytes: [UInt8]
        var i: Int
        var end: Int

        var isAtEnd: Bool { i >= end }

        mutating func varint() throws(APIError) -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < end, shift < 64 else { throw AccessReviewProtobuf.malformed }
                let b = bytes[i]
                i += 1
                v |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
        }

        /// The next field: its number, and for length-delimited fields a reader over its bytes.
        mutating func field() throws(APIError) -> (Int, Reader?) {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: _ = try varint(); return (number, nil)
            case 1: i += 8
            case 5: i += 4
            case 2:
                let n = try varint()
                guard n <= UInt64(end - i) else { throw AccessReviewProtobuf.malformed }
                let sub = Reader(bytes: bytes, i: i, end: i + Int(n))
                i += Int(n)
                return (number, sub)
            default: throw AccessReviewProtobuf.malformed
            }
            guard i <= end else { throw AccessReviewProtobuf.malformed }
            return (number, nil)
        }

        var string: String { String(decoding: bytes[i..<end], as: UTF8.self) }
    }

    static let malformed = APIError.badRequest("error decoding protobuf request body: malformed message")

    /// The review as JSON: apiVersion, kind and spec (metadata and status are not needed).
    static func decode(_ data: [UInt8]) throws(APIError) -> JSONValue {
        guard data.count >= 4, Array(data[0..<4]) == KubeProtobuf.magic else {
            throw APIError.badRequest("protobuf body does not start with the Kubernetes magic number")
        }
        var envelope = Reader(bytes: data, i: 4, end: data.count)
        var object: JSONValue = [:]
        var raw: Reader?
        while !envelope.isAtEnd {
            let (n, sub) = try envelope.field()
            guard var sub else { continue }
            if n == 1 {
                while !sub.isAtEnd {
                    let (f, s) = try sub.field()
                    if f == 1, let s { object["apiVersion"] = .string(s.string) }
                    if f == 2, let s { object["kind"] = .string(s.string) }
                }
            } else if n == 2 {
                raw = sub
            }
        }
        guard var review = raw else { return object }
        while !review.isAtEnd {
            let (n, sub) = try review.field()
            guard n == 2, let sub else { continue }
            // SelfSubjectRulesReviewSpec has one field: namespace.
            object["spec"] = object["kind"]?.stringValue == "SelfSubjectRulesReview" ? try strings(sub, ["namespace"]) : try spec(sub)
        }
        return object
    }

    static func spec(_ reader: Reader) throws(APIError) -> JSONValue {
        var r = reader
        var spec: JSONValue = [:]
        var groups: [JSONValue] = []
        while !r.isAtEnd {
            let (n, sub) = try r.field()
            guard let sub else { continue }
            switch n {
            case 1: spec["resourceAttributes"] = try strings(sub, ["namespace", "verb", "group", "version", "resource", "subresource", "name"])
            case 2: spec["nonResourceAttributes"] = try strings(sub, ["path", "verb"])
            case 3: spec["user"] = .string(sub.string)
            case 4: groups.append(.string(sub.string))
            case 6: spec["uid"] = .string(sub.string)
            default: break
            }
        }
        if !groups.isEmpty { spec["groups"] = .array(groups) }
        return spec
    }

    /// A message of string fields numbered 1... in the order of `names`; others are skipped.
    static func strings(_ reader: Reader, _ names: [String]) throws(APIError) -> JSONValue {
        var r = reader
        var out: JSONValue = [:]
        while !r.isAtEnd {
            let (n, sub) = try r.field()
            if let sub, n >= 1, n <= names.count { out[names[n - 1]] = .string(sub.string) }
        }
        return out
    }
}
