// Small Glibc helpers for the shim. No Foundation: Foundation starts threads, and a
// multi-threaded process can neither unshare(CLONE_NEWNS) nor setns into a mount namespace.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

func errnoString(_ code: Int32) -> String { String(cString: strerror(code)) }

/// Prints to stderr (the runtime points it at the container directory's shim.log) and exits 1.
func fail(_ message: String) -> Never {
    writeAll(2, Array("caravel-shim: \(message)\n".utf8))
    exit(1)
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { buf in
            write(fd, buf.baseAddress.map { $0 + offset }, bytes.count - offset)
        }
        if n < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += n
    }
}

/// Writes `path` via a temporary file and rename, so readers never see half a file.
@discardableResult
func writeFileAtomically(_ path: String, _ contents: String) -> Bool {
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return false }
    writeAll(fd, Array(contents.utf8))
    close(fd)
    return rename(tmp, path) == 0
}

/// Appends to an existing file such as cgroup.procs; returns errno or 0.
func writeExisting(_ path: String, _ contents: String) -> Int32 {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    let bytes = Array(contents.utf8)
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) }
    return n < 0 ? errno : 0
}

func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        result.append(contentsOf: buf[0..<n])
    }
    return String(decoding: result, as: UTF8.self)
}

/// mkdir -p.
func makeDirectories(_ path: String) -> Bool {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && errno != EEXIST { return false }
    }
    return true
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

private func pad(_ value: Int, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// Now as RFC 3339 in UTC with nine fraction digits (fixed width, so lines sort as text).
func rfc3339NanoNow() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var seconds = ts.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
        + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
        + ".\(pad(Int(ts.tv_nsec), 9))Z"
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// A NULL-terminated argv for execvp, built before fork so the child only calls exec.
func makeCArgv(_ args: [String]) -> [UnsafeMutablePointer<CChar>?] {
    args.map { strdup($0) } + [nil]
}

/// The child must not inherit the shim's ignored signals or blocked mask (both survive exec).
func resetSignals() {
    for sig in Int32(1)..<32 where sig != SIGKILL && sig != SIGSTOP {
        signal(sig, SIG_DFL)
    }
    var empty = sigset_t()
    sigemptyset(&empty)
    sigprocmask(SIG_SETMASK, &empty, nil)
}

/// Decoded wait status (the W* macros are not imported into Swift).
func decodeWaitStatus(_ status: Int32) -> (code: Int32, signal: Int32?) {
    let low = status & 0x7f
    if low == 0 { return ((status >> 8) & 0xff, nil) }
    return (128 + low, low)
}

// setns and unshare are _GNU_SOURCE declarations the Glibc module does not import; look them
// up in libc instead (no C target needed for two calls).
let CLONE_NEWNS: Int32 = 0x0002_0000
let CLONE_NEWUTS: Int32 = 0x0400_0000
let CLONE_NEWIPC: Int32 = 0x0800_0000
let CLONE_NEWPID: Int32 = 0x2000_0000
let CLONE_NEWNET: Int32 = 0x4000_0000

private typealias NamespaceCall = @convention(c) (Int32, Int32) -> Int32
private typealias UnshareCall = @convention(c) (Int32) -> Int32

func setns(_ fd: Int32, _ type: Int32) -> Int32 {
    guard let symbol = dlsym(nil, "setns") else { errno = ENOSYS; return -1 }
    return unsafeBitCast(symbol, to: NamespaceCall.self)(fd, type)
}

func unshare(_ flags: Int32) -> Int32 {
    guard let symbol = dlsym(nil, "unshare") else { errno = ENOSYS; return -1 }
    return unsafeBitCast(symbol, to: UnshareCall.self)(flags)
}

/// pipe with both ends close-on-exec (the shim is single-threaded, so no fork can slip in).
func cloexecPipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return true
}

/// Closes every descriptor above stderr: whatever the kubelet leaked must not reach the
/// container, and a spawner watching a descriptor for its child's exit must see it close.
func closeInheritedDescriptors() {
    var fds: [Int32] = []
    if let dir = opendir("/proc/self/fd") {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name), fd > 2 { fds.append(fd) }
        }
        closedir(dir)
    }
    for fd in fds { close(fd) }
}
