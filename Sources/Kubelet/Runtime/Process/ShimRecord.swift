import Foundation

/// `D/config.json`: written by the runtime before it spawns the shim, so a restarted kubelet
/// knows what each container directory holds and can exec into it with the same environment.
struct ShimConfig: Codable, Sendable {
    var podUID: String
    var name: String
    var attempt: Int
    var namespace: String
    var podName: String
    var image: String
    /// The resolved argv; its first element is the program's path.
    var argv: [String]
    /// `NAME=value`, deduplicated, later entries winning.
    var env: [String]
    var workingDir: String?
    var logPath: String
    var cgroups: [String]
    var networkNamespace: String?
    var createdAt: Date
    /// The child's start time in clock ticks since boot (/proc/PID/stat field 22), recorded once
    /// it runs: a live PID with another start time is a reused PID, not the container.
    var pidStartTime: UInt64?

    var id: ContainerID { ContainerID(podUID: podUID, name: name, attempt: attempt) }
}

/// `D/exit`, written by the shim.
struct ShimExit: Codable, Sendable {
    var exitCode: Int32
    var signal: Int32?
    var finishedAt: String
    var execError: String?
}

/// `ROOT/pods/<uid>/process-sandbox.json`: what `startSandbox` set up, read by
/// `startContainer` to enter the pod's network namespace. (`sandbox.json` belongs to PodNetwork.)
struct ProcessSandboxRecord: Codable, Sendable {
    var podIP: String
    var networkNamespace: String?
    var hostNetwork: Bool
}

/// The files of one container directory.
struct ShimRecord: Sendable {
    let directory: String

    var configPath: String { directory + "/config.json" }
    var pidPath: String { directory + "/pid" }
    var shimPidPath: String { directory + "/shim.pid" }
    var startedPath: String { directory + "/started" }
    var exitPath: String { directory + "/exit" }
    /// `1` or `0`: the OOM verdict, kept because the cgroup that knew it may be gone.
    var oomPath: String { directory + "/oom" }
    var shimLogPath: String { directory + "/shim.log" }

    func config() -> ShimConfig? { Self.decode(ShimConfig.self, at: configPath) }
    func exit() -> ShimExit? { Self.decode(ShimExit.self, at: exitPath) }
    func pid() -> pid_t? { Self.readInt(pidPath).map { pid_t($0) } }
    func shimPid() -> pid_t? { Self.readInt(shimPidPath).map { pid_t($0) } }
    func startedAt() -> Date? {
        (try? String(contentsOfFile: startedPath, encoding: .utf8)).flatMap {
            RFC3339Nano.parse($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    func save(_ config: ShimConfig) throws { try Self.encode(config, to: configPath) }

    static func decode<T: Decodable>(_ type: T.Type, at path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(type, from: data)
    }

    static func encode<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func readInt(_ path: String) -> Int? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

/// RFC 3339 timestamps with up to nine fraction digits, in UTC (`Z`), as the shim writes them.
enum RFC3339Nano {
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            return Int(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        var fraction = 0.0
        if bytes[19] == UInt8(ascii: "."), let digits = number(20..<(bytes.count - 1)) {
            fraction = Double(digits) / pow(10, Double(bytes.count - 21))
        }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}

/// Process facts from /proc.
enum ProcFS {
    /// Field 22 (start time) of /proc/PID/stat, and whether the process is a zombie.
    static func stat(_ pid: pid_t) -> (startTime: UInt64, zombie: Bool)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name, which may itself contain spaces and parentheses.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = UInt64(fields[19]) else { return nil }
        return (start, fields[0] == "Z")
    }

    /// Whether `pid` is a live process and, when `startTime` is known, the same one as recorded.
    static func isAlive(_ pid: pid_t, startTime: UInt64?) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let info = stat(pid) else { return false }
        if info.zombie { return false }
        if let startTime, info.startTime != startTime { return false }
        return true
    }

    /// Whether `pid` is positively not the process recorded: no such pid, a zombie, or another
    /// start time. Unlike `!isAlive`, a /proc entry that cannot be read proves nothing.
    static func isGone(_ pid: pid_t, startTime: UInt64?) -> Bool {
        guard pid > 0 else { return true }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let info = stat(pid) else {
            // Raced with its exit, or /proc could not be read: ask the kernel once more.
            return kill(pid, 0) != 0 && errno == ESRCH
        }
        if info.zombie { return true }
        if let startTime, info.startTime != startTime { return true }
        return false
    }
}
