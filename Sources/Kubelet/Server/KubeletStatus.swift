import HTTPTypes
import Hummingbird
import KubeModel
import NIOCore

/// Kubernetes `Status` objects as the kubelet answers errors (HTTP bodies) and exec results
/// (the WebSocket error channel).
enum KubeletStatus {
    static func reason(forCode code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        default: return "InternalError"
        }
    }

    static func failure(code: Int, message: String) -> JSONValue {
        ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(message),
         "reason": .string(reason(forCode: code)), "code": .int(Int64(code))]
    }

    /// What exec sends on channel 3 when the command exited: success, or the exit code the way
    /// clients (kubectl, the Python client) turn it into their own exit code.
    static func execExit(_ code: Int32) -> JSONValue {
        guard code != 0 else { return ["metadata": [:], "status": "Success"] }
        return ["metadata": [:], "status": "Failure", "reason": "NonZeroExitCode",
                "message": .string("command terminated with non-zero exit code: exit status \(code)"),
                "details": ["causes": [["reason": "ExitCode", "message": .string(String(code))]]]]
    }

    static func response(code: Int, message: String) -> Response {
        var bytes = JSONWriter.bytes(failure(code: code, message: message))
        bytes.append(UInt8(ascii: "\n"))
        return Response(status: .init(code: code), headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// An error a route answers as a `Status` with its code.
struct KubeletHTTPError: Error {
    var code: Int
    var message: String
}
