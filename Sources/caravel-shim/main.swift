// caravel-shim: the per-container monitor (see Package.swift and Run.swift / Exec.swift).
//
//   caravel-shim run --container-dir D --log-path P --log-max-bytes N --log-max-files K
//       [--netns PATH] [--cgroup DIR]... [--mount SRC:DST:ro|rw]... [--workdir W]
//       [--console tty|stdin] [--stdin-once 1] -- PROGRAM ARGS...
//   caravel-shim exec --target-pid PID [--workdir W] [--tty 1] -- PROGRAM ARGS...
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let usage = """
    usage: caravel-shim run --container-dir D --log-path P [--log-max-bytes N] [--log-max-files K]
               [--netns PATH] [--cgroup DIR]... [--mount SRC:DST:ro|rw]... [--workdir W]
               [--console tty|stdin] [--stdin-once 1] -- PROGRAM ARGS...
           caravel-shim exec --target-pid PID [--workdir W] [--tty 1] -- PROGRAM ARGS...
    """

/// Splits `--flag value` pairs from the command after `--`.
func parseFlags(_ args: ArraySlice<String>) -> (flags: [(String, String)], command: [String]) {
    var flags: [(String, String)] = []
    var index = args.startIndex
    while index < args.endIndex {
        let arg = args[index]
        if arg == "--" { return (flags, Array(args[(index + 1)...])) }
        guard arg.hasPrefix("--"), index + 1 < args.endIndex else { fail("unexpected argument \(arg)\n\(usage)") }
        flags.append((arg, args[index + 1]))
        index += 2
    }
    return (flags, [])
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { fail(usage) }
let (flags, command) = parseFlags(arguments.dropFirst(2))
guard !command.isEmpty else { fail("no command after --\n\(usage)") }

switch arguments[1] {
case "run":
    var options = RunOptions()
    options.argv = command
    for (flag, value) in flags {
        switch flag {
        case "--container-dir": options.containerDir = value
        case "--log-path": options.logPath = value
        case "--log-max-bytes": options.logMaxBytes = Int(value) ?? options.logMaxBytes
        case "--log-max-files": options.logMaxFiles = Int(value) ?? options.logMaxFiles
        case "--netns": options.netns = value
        case "--console":
            guard let mode = Console.Mode(rawValue: value) else { fail("bad --console \(value)") }
            options.console = mode
        case "--stdin-once": options.stdinOnce = value == "1"
        case "--cgroup": options.cgroups.append(value)
        case "--workdir": options.workdir = value
        case "--mount":
            // SRC:DST:ro|rw; the mode is the last field, the source may not contain ':'.
            let parts = value.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 3, let mode = parts.last, mode == "ro" || mode == "rw" else { fail("bad --mount \(value)") }
            options.mounts.append((String(parts[0]), parts[1..<(parts.count - 1)].joined(separator: ":"), mode == "ro"))
        default: fail("unknown flag \(flag)\n\(usage)")
        }
    }
    guard !options.containerDir.isEmpty, !options.logPath.isEmpty else { fail(usage) }
    runContainer(options)
case "exec":
    var options = ExecOptions()
    options.argv = command
    for (flag, value) in flags {
        switch flag {
        case "--target-pid": options.targetPid = pid_t(value) ?? 0
        case "--workdir": options.workdir = value
        case "--tty": options.tty = value == "1"
        default: fail("unknown flag \(flag)\n\(usage)")
        }
    }
    guard options.targetPid > 0 else { fail(usage) }
    execInContainer(options)
default:
    fail(usage)
}
