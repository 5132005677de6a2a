import ArgumentParser

/// `kubectl api-versions`: every served group/version, sorted.
struct APIVersions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api-versions",
        abstract: "Print the supported API versions on the server, in the form of \"group/version\"")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let lines = try await Session.with(global) { session in
            try await session.discovery().groupVersions().map { $0.group.isEmpty ? $0.version : $0.group + "/" + $0.version }
        }
        Terminal.write(lines.sorted().map { $0 + "\n" }.joined())
    }
}
