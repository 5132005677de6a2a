import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl exec POD [-c C] [-i] [-t] -- COMMAND...`: runs a command in a container over the
/// WebSocket stream protocol. `-it` on a terminal asks for a remote TTY, puts the local
/// terminal in raw mode and sends its size (again on every resize). Exits with the command's
/// exit code.
struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Execute a command in a container")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("c"), .customLong("container")]) var container: String?
    @Flag(name: [.customShort("i"), .customLong("stdin")]) var stdin = false
    @Flag(name: [.customShort("t"), .customLong("tty")]) var tty = false
    @Flag(name: [.customShort("q"), .customLong("quiet")]) var quiet = false
    @Argument var target: String
    @Argument(parsing: .postTerminator) var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else {
            throw CommandFailure.error("you must specify at least one command for the container")
        }
        let interactiveTTY = tty && stdin && isatty(STDIN_FILENO) != 0
        // kubectl drops -t silently without -i, and with a notice when stdin is no terminal.
        if tty && stdin && !interactiveTTY && !quiet {
            Terminal.printError("Unable to use a TTY - input is not a terminal or the right kind of file")
        }
        let result = try await Session.with(global) { session -> ExecResult in
            let ns = try session.namespace()
            let pod = try await Logs.pod(for: target, namespace: ns, session: session)
            let name = pod["metadata"]?["name"]?.stringValue ?? target
            var chosen = container
            let containers = (pod["spec"]?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            if chosen == nil {
                chosen = pod["metadata"]?["annotations"]?["kubectl.kubernetes.io/default-container"]?.stringValue ?? containers.first
                if containers.count > 1, !quiet, let c = chosen {
                    Terminal.printError("Defaulted container \"\(c)\" out of: \(containers.joined(separator: ", "))")
                }
            }
            let request = ExecRequest(namespace: ns, pod: name, container: chosen, command: command,
                                      stdin: stdin, tty: interactiveTTY)
            let raw = RawTerminal()
            if interactiveTTY { raw.enter() }
            defer { raw.restore() }
            let input = stdin ? StdinReader.stream() : nil
            let resizes = interactiveTTY ? TerminalSizes.stream() : nil
            return try await PodExec.run(request, connection: try session.client().connection, input: input, resizes: resizes,
                                         stdout: { FileHandle.standardOutput.write(Data($0)) },
                                         stderr: { FileHandle.standardError.write(Data($0)) })
        }
        if let failure = result.failure { throw CommandFailure(CommandFailure.serverError(failure)) }
        if result.exitCode != 0 {
            throw CommandFailure("command terminated with exit code \(result.exitCode)", exitCode: result.exitCode)
        }
    }
}

/// Stdin as an async stream of chunks, read on its own thread (reads block).
enum StdinReader {
    static func stream() -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            let thread = Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = read(STDIN_FILENO, &buffer, buffer.count)
                    if n <= 0 { break }
                    continuation.yield(Array(buffer[0..<n]))
                }
                continuation.finish()
            }
            thread.start()
        }
    }
}
