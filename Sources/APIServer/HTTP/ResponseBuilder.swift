import HTTPTypes
import Hummingbird
import KubeModel
import NIOCore

/// Builds JSON responses the way kube-apiserver sends them.
enum ResponseBuilder {
    /// Set for a request whose `Accept` prefers `application/yaml`: its objects, lists and
    /// Status errors go out as YAML, as kube-apiserver's negotiation does.
    @TaskLocal static var servesYAML = false

    static func json(_ value: JSONValue, code: Int = 200, warnings: [String] = [], extraHeaders: [(String, String)] = []) -> Response {
        if servesYAML {
            var r = raw(Array(YAMLEncoding.encode(value).utf8), code: code, warnings: warnings, extraHeaders: extraHeaders)
            r.headers[.contentType] = "application/yaml"
            return r
        }
        // Field order as kube-apiserver writes it; clients compare error strings exactly.
        var bytes = JSONWriter.kubernetesBytes(value)
        bytes.append(UInt8(ascii: "\n"))
        return raw(bytes, code: code, warnings: warnings, extraHeaders: extraHeaders)
    }

    /// A write's answer: the bytes the store wrote when it kept them and the client reads JSON
    /// (no second serialization of the object), else the object encoded.
    static func written(_ r: WriteResult) -> Response {
        guard let stored = r.serialized, !servesYAML else { return json(r.object, code: r.code, warnings: r.warnings) }
        return self.stored(stored, code: r.code, warnings: r.warnings)
    }

    /// An object as the store serialized it, ended as `json` ends it.
    static func stored(_ bytes: some Collection<UInt8>, code: Int = 200, warnings: [String] = []) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return raw(buffer, code: code, warnings: warnings)
    }

    /// Already-serialized JSON.
    static func raw(_ bytes: [UInt8], code: Int = 200, warnings: [String] = [], extraHeaders: [(String, String)] = []) -> Response {
        raw(ByteBuffer(bytes: bytes), code: code, warnings: warnings, extraHeaders: extraHeaders)
    }

    static func raw(_ buffer: ByteBuffer, code: Int = 200, warnings: [String] = [], extraHeaders: [(String, String)] = []) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-cache, private"
        if let warning = HTTPField.Name("Warning") {
            for w in warnings {
                headers.append(HTTPField(name: warning, value: "299 - \"\(w.replacingOccurrences(of: "\"", with: "\\\""))\""))
            }
        }
        for (k, v) in extraHeaders {
            if let name = HTTPField.Name(k) { headers.append(HTTPField(name: name, value: v)) }
        }
        return Response(status: .init(code: code), headers: headers, body: body(buffer))
    }

    /// Bodies larger than this go out in pieces of this size.
    static let pieceSize = 64 * 1024

    /// The body, in pieces when large: TLS encrypts each write into its connection's buffer,
    /// so a 20 MB LIST written whole grew that buffer to 32 MiB (see `ServerTLSChannel`). Each
    /// piece waits for the connection to take it, so a slow reader also holds back the rest.
    static func body(_ buffer: ByteBuffer) -> ResponseBody {
        guard buffer.readableBytes > pieceSize else { return ResponseBody(byteBuffer: buffer) }
        return ResponseBody(contentLength: buffer.readableBytes) { writer in
            var rest = buffer
            while rest.readableBytes > 0, let piece = rest.readSlice(length: min(pieceSize, rest.readableBytes)) {
                try await writer.write(piece)
            }
            try await writer.finish(nil)
        }
    }

    /// A list's JSON around items that are already serialized, each copied once into the
    /// body: the same bytes as `json` of the list with the items parsed.
    static func listBody(kind: String, apiVersion: String, metadata: JSONValue, items: [Data]) -> ByteBuffer {
        var head = JSONWriter.kubernetesBytes(["kind": .string(kind), "apiVersion": .string(apiVersion), "metadata": metadata])
        head.removeLast()  // the closing brace: the items follow
        head.append(contentsOf: #","items":["#.utf8)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(head.count + items.reduce(0) { $0 + $1.count + 1 } + 3)
        buffer.writeBytes(head)
        for (i, item) in items.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeBytes(item)
        }
        buffer.writeBytes(Array("]}\n".utf8))
        return buffer
    }

    static func error(_ e: APIError) -> Response {
        json(e.status, code: e.code, extraHeaders: e.headers)
    }

    static func text(_ s: String, code: Int = 200, contentType: String = "text/plain; charset=utf-8") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: .init(code: code), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: s)))
    }
}

import Foundation
