#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local terminal in raw mode for `exec -it`: input goes to the remote side byte by byte
/// (Ctrl-C included) and echo comes back from the remote TTY. `restore()` puts it back.
final class RawTerminal {
    private var saved = termios()
    private var active = false

    /// Switches stdin to raw mode when it is a terminal.
    func enter() {
        guard isatty(STDIN_FILENO) != 0, tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        var raw = saved
        cfmakeraw(&raw)
        if tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 { active = true }
    }

    func restore() {
        guard active else { return }
        var t = saved
        tcsetattr(STDIN_FILENO, TCSANOW, &t)
        active = false
    }

    /// The terminal's size (columns, rows), when stdout is a terminal.
    static func size() -> (UInt16, UInt16)? {
        var w = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 else { return nil }
        return (w.ws_col, w.ws_row)
    }
}
