import Foundation

/// Settings read from the environment (as a pod spec sets them) and a few flags, parsed by
/// hand: this target depends on Hummingbird only.
struct DemoConfig: Sendable {
    var host = "0.0.0.0"
    var port = 8080
    var startupDelay: Double = 0
    var readyFile: String?
    var failLivenessAfter: Double?
    var greeting = "hello"
    var configDir: String?
    var secretDir: String?
    /// What `GET /` names: the pod (downward API) or else the host.
    var instanceName = "demo-app"

    static let usage = """
        usage: demo-app [--port N] [--host ADDR]

        A small HTTP app for Caravel's examples and tests. Environment:
          PORT                          listen port (default 8080; 0 picks a free one)
          HOST                          listen address (default 0.0.0.0)
          STARTUP_DELAY_SECONDS         /startupz answers 503 until this many seconds (default 0)
          READY_FILE                    /readyz answers 503 while this file is missing
          FAIL_LIVENESS_AFTER_SECONDS   /healthz answers 500 after this many seconds
          GREETING                      what GET / says (default "hello")
          CONFIG_DIR, SECRET_DIR        directories GET /config lists (secrets by length only)
          POD_NAME                      the name GET / reports (default: the hostname)
        """

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func load(
        environment env: [String: String] = ProcessInfo.processInfo.environment,
        arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) throws -> DemoConfig {
        var c = DemoConfig()
        if let v = env["PORT"] { c.port = try port(v, from: "PORT") }
        if let v = env["HOST"], !v.isEmpty { c.host = v }
        if let v = env["STARTUP_DELAY_SECONDS"] { c.startupDelay = try seconds(v, from: "STARTUP_DELAY_SECONDS") }
        if let v = env["FAIL_LIVENESS_AFTER_SECONDS"], !v.isEmpty {
            c.failLivenessAfter = try seconds(v, from: "FAIL_LIVENESS_AFTER_SECONDS")
        }
        c.readyFile = nonEmpty(env["READY_FILE"])
        c.configDir = nonEmpty(env["CONFIG_DIR"])
        c.secretDir = nonEmpty(env["SECRET_DIR"])
        if let g = env["GREETING"] { c.greeting = g }
        c.instanceName = nonEmpty(env["POD_NAME"]) ?? nonEmpty(ProcessInfo.processInfo.hostName) ?? "demo-app"

        // Flags win over the environment, so a `command`/`args` override can set them.
        var rest = arguments[...]
        while let arg = rest.popFirst() {
            switch arg {
            case "--port", "--host":
                guard let value = rest.popFirst() else { throw Invalid(description: "\(arg) needs a value") }
                if arg == "--port" { c.port = try port(value, from: arg) } else { c.host = value }
            case "-h", "--help":
                throw Help()
            default:
                throw Invalid(description: "unknown argument \(arg)")
            }
        }
        return c
    }

    struct Help: Error {}

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    private static func port(_ s: String, from name: String) throws -> Int {
        guard let p = Int(s.trimmingCharacters(in: .whitespaces)), (0...65535).contains(p) else {
            throw Invalid(description: "\(name): not a port number: \(s)")
        }
        return p
    }

    private static func seconds(_ s: String, from name: String) throws -> Double {
        guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d >= 0, d.isFinite else {
            throw Invalid(description: "\(name): not a number of seconds: \(s)")
        }
        return d
    }
}
