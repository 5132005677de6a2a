// demo-app: the small HTTP app Caravel's example manifests run (image `caravel/demo-app`).
// Health, readiness and startup endpoints that tests can flip, a CPU burner and /metrics.
// See DemoConfig.usage for the settings; `demo-app load` is a load generator (LoadGenerator).
import Dispatch
import Foundation
import Hummingbird

// A closed stdout must not kill the app; writes just fail.
signal(SIGPIPE, SIG_IGN)

if CommandLine.arguments.dropFirst().first == "load" {
    do {
        let generator = try LoadGenerator.parse(Array(CommandLine.arguments.dropFirst(2)))
        log("sending \(generator.requestsPerSecond) requests per second to \(generator.url.absoluteString) for \(generator.duration)s")
        let started = ContinuousClock.now
        let counts = await generator.run()
        let elapsed = ContinuousClock.now - started
        log(LoadGenerator.summary(counts, url: generator.url, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        exit(counts.keys.contains { (200..<400).contains($0) } ? 0 : 1)
    } catch is DemoConfig.Help {
        log(LoadGenerator.usage)
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("demo-app load: \(error)\n\n\(LoadGenerator.usage)\n".utf8))
        exit(2)
    }
}

let config: DemoConfig
do {
    config = try DemoConfig.load()
} catch is DemoConfig.Help {
    log(DemoConfig.usage)
    exit(0)
} catch {
    FileHandle.standardError.write(Data("demo-app: \(error)\n\n\(DemoConfig.usage)\n".utf8))
    exit(2)
}

let state = AppState(config: config)
let serving = Locked(false)

// Kept in a global so the sources live as long as the process.
let signalSources = logShutdownSignals(serving: serving)

let app = Application(
    router: buildRouter(state: state),
    configuration: .init(address: .hostname(config.host, port: config.port), serverName: "demo-app"),
    onServerRunning: { channel in
        serving.withLock { $0 = true }
        let port = channel.localAddress?.port ?? config.port
        log("demo-app listening on \(config.host):\(port) (greeting \"\(config.greeting)\", startup delay \(config.startupDelay)s)")
    }
)

do {
    try await app.runService()
} catch {
    FileHandle.standardError.write(Data("demo-app: \(error)\n".utf8))
    exit(1)
}
log("stopped")
exit(0)
