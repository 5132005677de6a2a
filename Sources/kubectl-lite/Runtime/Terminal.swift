import Foundation

/// Writing to the terminal: stdout for results, stderr for errors and notices.
enum Terminal {
    /// Writes `text` to stdout as is (no newline added).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Writes `text` and a newline to stderr.
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Whether stdout is a terminal (color and interactive behaviour only then).
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
}
