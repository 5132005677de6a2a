import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local terminal in raw mode for `exec -it`: input goes to the remote side byte by byte
/// (Ctrl-C included) and echo comes back from the remote side. `restore()` puts it back; so
/// do SIGHUP, SIGINT, SIGTERM and SIGQUIT, which then end the process with status 1 as
/// kubectl does.
final class RawTerminal {
    static let interruptSignals = [SIGHUP, SIGINT, SIGTERM, SIGQUIT]
    private var saved = termios()
    private var active = false
    private var signalSources: [any DispatchSourceSignal] = []

    /// Switches stdin to raw mode when it is a terminal.
    func enter() {
        guard isatty(STDIN_FILENO) != 0, tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        let original = saved
        // Handlers first: a signal between the switch and their installation would leave the
        // terminal raw.
        for number in Self.interruptSignals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                var t = original
                tcsetattr(STDIN_FILENO, TCSANOW, &t)
                exit(1)
            }
            source.resume()
            signalSources.append(source)
        }
        var raw = saved
        cfmakeraw(&raw)
        if tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 { active = true }
    }

    /// Puts the terminal back as `enter()` found it and the signals back to their defaults.
    func restore() {
        if active {
            var t = saved
            tcsetattr(STDIN_FILENO, TCSANOW, &t)
            active = false
        }
        for source in signalSources { source.cancel() }
        for number in Self.interruptSignals where !signalSources.isEmpty { signal(number, SIG_DFL) }
        signalSources = []
    }

    /// The terminal's size (columns, rows), when stdout is a terminal.
    static func size() -> (UInt16, UInt16)? {
        var w = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 else { return nil }
        return (w.ws_col, w.ws_row)
    }
}
