// Entry point: `@main` is not allowed in a file named main.swift, so start the command here.
await BenchCommand.main()
