import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

// Line-buffered even into a file or a pipe: a run stopped by a timeout keeps what it printed.
setvbuf(stdout, nil, _IOLBF, 0)

// `@main` is not allowed in a file named main.swift, and from top-level code both
// `BenchCommand.main()` and `run()` resolve to ArgumentParser's synchronous defaults (which
// refuse async commands or print help). So parse here and call the async body by its own name.
do {
    var command = try BenchCommand.parseAsRoot()
    if let bench = command as? BenchCommand {
        try await bench.execute()
    } else {
        try command.run()  // --help, --version and friends
    }
} catch {
    BenchCommand.exit(withError: error)
}
