import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local terminal's size for `exec -it`: the current size first, then the new one after
/// every SIGWINCH (the window was resized), as kubectl's terminal size queue sends them.
enum TerminalSizes {
    static func stream() -> AsyncStream<(UInt16, UInt16)> {
        AsyncStream { continuation in
            if let size = RawTerminal.size() { continuation.yield(size) }
            signal(SIGWINCH, SIG_IGN)
            nonisolated(unsafe) let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
            source.setEventHandler {
                if let size = RawTerminal.size() { continuation.yield(size) }
            }
            source.resume()
            continuation.onTermination = { _ in source.cancel() }
        }
    }
}
