import Dispatch
import Foundation

/// Hummingbird's ServiceGroup does the graceful part on SIGTERM/SIGINT (stop accepting, finish
/// in-flight requests, return). These extra sources only log it; a signal that comes before
/// the server runs has nothing to drain, so it just exits. (A function of its own, not
/// top-level code, so the handler is not main-actor isolated: it runs on a Dispatch queue.)
func logShutdownSignals(serving: Locked<Bool>) -> [any DispatchSourceSignal] {
    [SIGTERM, SIGINT].map { sig in
        signal(sig, SIG_IGN)  // Dispatch sources see only signals that are not handled otherwise
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { @Sendable in
            log("shutting down (signal \(sig))")
            if !serving.withLock({ $0 }) { exit(0) }
        }
        source.resume()
        return source
    }
}
