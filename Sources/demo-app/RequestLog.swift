import Foundation
import Hummingbird

/// Logs one line per request to stdout (what `kubectl logs` shows) and counts it for
/// `http_requests_total`.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let state: AppState

    /// Known paths keep their name as the metric label; anything else is "other", so that
    /// scanners cannot grow the label set without bound.
    static var knownPaths: Set<String> {
        ["/", "/healthz", "/readyz", "/startupz", "/fail", "/ready", "/burn", "/metrics", "/config", "/env"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let code: Int
        do {
            let response = try await next(request, context)
            code = response.status.code
            record(request, code: code, since: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, code: error.status.code, since: start)
            throw error
        } catch {
            record(request, code: 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, code: Int, since start: ContinuousClock.Instant) {
        let path = request.uri.path
        state.countRequest(path: Self.knownPaths.contains(path) ? path : "other", code: code)
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let time = Date().formatted(.iso8601)
        log("\(time) \(request.method) \(request.uri.description) \(code) \(String(format: "%.1f", ms))ms")
    }
}

/// Writes one line to stdout with a single write(2): unbuffered, so each line reaches the
/// kubelet's log file as it happens, and lines from concurrent requests never interleave.
func log(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
    }
}
