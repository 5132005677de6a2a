#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes CRI log lines (`<time> <stream> <P|F> <text>`) and rotates by size:
/// P -> P.1 -> P.2 …, keeping `maxFiles` rotated files.
struct LogWriter {
    /// Longer lines are cut into partial (`P`) records of this size, as CRI runtimes do.
    static let maxLineBytes = 16 * 1024

    let path: String
    let maxBytes: Int
    let maxFiles: Int
    private var fd: Int32 = -1
    private var size = 0

    init(path: String, maxBytes: Int, maxFiles: Int) {
        self.path = path
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        if let slash = path.lastIndex(of: "/") {
            _ = makeDirectories(String(path[..<slash]))
        }
        reopen()
    }

    private mutating func reopen() {
        if fd >= 0 { close(fd) }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        var st = stat()
        size = fd >= 0 && fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    private mutating func rotate() {
        if maxFiles <= 0 {
            unlink(path)
        } else {
            unlink("\(path).\(maxFiles)")
            if maxFiles > 1 {
                for index in stride(from: maxFiles - 1, through: 1, by: -1) {
                    rename("\(path).\(index)", "\(path).\(index + 1)")
                }
            }
            rename(path, "\(path).1")
        }
        reopen()
    }

    mutating func write(stream: String, partial: Bool, text: ArraySlice<UInt8>) {
        var record = Array("\(rfc3339NanoNow()) \(stream) \(partial ? "P" : "F") ".utf8)
        record.append(contentsOf: text)
        record.append(UInt8(ascii: "\n"))
        if maxBytes > 0 && size > 0 && size + record.count > maxBytes { rotate() }
        guard fd >= 0 else { return }
        writeAll(fd, record)
        size += record.count
    }
}

/// Splits one pipe's bytes into lines for the log writer.
struct LineSplitter {
    let stream: String
    private var pending: [UInt8] = []

    init(stream: String) { self.stream = stream }

    mutating func feed(_ bytes: ArraySlice<UInt8>, into log: inout LogWriter) {
        pending.append(contentsOf: bytes)
        var start = 0
        var index = 0
        while index < pending.count {
            if pending[index] == UInt8(ascii: "\n") {
                log.write(stream: stream, partial: false, text: pending[start..<index])
                start = index + 1
            } else if index - start + 1 >= LogWriter.maxLineBytes {
                log.write(stream: stream, partial: true, text: pending[start...index])
                start = index + 1
            }
            index += 1
        }
        pending.removeFirst(start)
    }

    /// A last line without newline is still a full line.
    mutating func flush(into log: inout LogWriter) {
        if !pending.isEmpty {
            log.write(stream: stream, partial: false, text: pending[...])
            pending.removeAll()
        }
    }
}
