import ArgumentParser
import Foundation

/// Parses kubectl-style arguments, runs the verb, and turns every failure into kubectl's
/// stderr text and exit code.
@main
enum EntryPoint {
    static func main() async {
        let args = ArgumentNormalizer.normalize(Array(CommandLine.arguments.dropFirst()))
        if args.isEmpty || ["-h", "--help", "help"].contains(args[0]) && args.count == 1 {
            print(RootHelp.text, terminator: "")
            exit(0)
        }
        do {
            var command = try KubectlLite.parseAsRoot(args)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            Terminal.printError(failure.message)
            exit(failure.exitCode)
        } catch {
            let code = KubectlLite.exitCode(for: error)
            if code == .success {
                print(KubectlLite.fullMessage(for: error))
                exit(0)
            }
            let verb = args.first { !$0.hasPrefix("-") } ?? ""
            Terminal.printError("error: \(kubectlWording(KubectlLite.message(for: error)))\nSee 'kubectl-lite \(verb) --help' for usage.")
            exit(1)
        }
    }

    /// ArgumentParser's phrasing → cobra's (`unknown flag: --x`, `flag needs an argument`).
    static func kubectlWording(_ message: String) -> String {
        if message.hasPrefix("Unknown option '"), let name = message.split(separator: "'").dropFirst().first {
            return "unknown flag: \(name)"
        }
        if message.hasPrefix("Missing value for '"), let name = message.split(separator: "'").dropFirst().first {
            let flag = name.split(separator: " ").first.map(String.init) ?? String(name)
            return "flag needs an argument: \(flag)"
        }
        return message.prefix(1).lowercased() + message.dropFirst()
    }
}
