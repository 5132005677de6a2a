import KubeModel
import NIOCore

/// Decodes request bodies: JSON, YAML (which kubectl never sends, but curl users do), or
/// Kubernetes protobuf (which kubectl's typed commands send, e.g. `kubectl create configmap`).
enum BodyDecoder {
    static func decode(_ buffer: ByteBuffer, contentType: String) throws(APIError) -> JSONValue {
        let bytes = buffer.readableBytesView
        switch contentType {
        case "", "application/json", "*/*":
            do { return try JSONParser.parse(bytes) } catch {
                throw APIError.badRequest("error decoding request body: \(error.description)")
            }
        case "application/yaml", "application/x-yaml", "text/yaml":
            do { return try YAMLDecoding.decode(String(decoding: bytes, as: UTF8.self)) } catch {
                throw APIError.badRequest("error decoding YAML request body: \(error)")
            }
        case "application/vnd.kubernetes.protobuf":
            do { return try KubeProtobuf.decode(bytes) } catch {
                throw APIError.badRequest("error decoding protobuf request body: \(error.message)")
            }
        default:
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf")
        }
    }
}
