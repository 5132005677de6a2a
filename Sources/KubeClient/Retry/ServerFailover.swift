import AsyncHTTPClient
import Foundation
import NIOCore

/// Which failures send a request on to the next API server. A server that cannot be
/// connected to never saw the request, so any request moves on; a connection that broke
/// after the request was sent moves only reads on (a write may have been applied).
enum ServerFailover {
    static func shouldTryNext(_ error: any Error, method: String) -> Bool {
        let idempotent = ["GET", "HEAD", "OPTIONS"].contains(method.uppercased())
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .socksHandshakeTimeout, .tlsHandshakeTimeout: return true
            case .remoteConnectionClosed: return idempotent
            default: return false
            }
        }
        if let error = error as? ChannelError {
            if case .connectTimeout = error { return true }
            return false
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH: return true
            case ECONNRESET, EPIPE: return idempotent
            default: return false
            }
        }
        // NIOPosix's NIOConnectionError (every address of the server refused the connection);
        // KubeClient does not link NIOPosix itself, so it is known by name.
        return String(reflecting: type(of: error)).hasSuffix("NIOConnectionError")
    }
}
