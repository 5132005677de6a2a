import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `demo-app load URL [--rps N] [--duration SECONDS] [--concurrency N]`: sends GET requests
/// to URL at a steady rate for a bounded time, then prints what it did. Meant for pod IPs
/// and ports on loopback (Service cluster IPs are not routed by Caravel's nodes).
struct LoadGenerator: Sendable {
    var url: URL
    var requestsPerSecond = 10.0
    var duration = 30.0
    var concurrency = 4

    static let maxRequestsPerSecond = 1000.0
    static let maxDuration = 3600.0
    static let maxConcurrency = 64

    static let usage = """
        usage: demo-app load URL [--rps N] [--duration SECONDS] [--concurrency N]

        Sends GET requests to URL (http:// only), N per second (default 10, at most 1000), for
        SECONDS (default 30, at most 3600), with up to N requests in flight (default 4, at
        most 64); then prints how many got which status. Example, to load one pod's CPU:
          demo-app load 'http://10.244.0.5:8080/burn?ms=20' --rps 20 --duration 120
        """

    static func parse(_ arguments: [String]) throws -> LoadGenerator {
        var rest = arguments[...]
        var url: URL?
        var generator = LoadGenerator(url: URL(fileURLWithPath: "/"))
        func number(_ flag: String, _ range: ClosedRange<Double>) throws -> Double {
            guard let text = rest.popFirst(), let v = Double(text), range.contains(v) else {
                throw DemoConfig.Invalid(description: "\(flag) needs a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        while let arg = rest.popFirst() {
            switch arg {
            case "--rps": generator.requestsPerSecond = try number(arg, 0.1...maxRequestsPerSecond)
            case "--duration": generator.duration = try number(arg, 0.1...maxDuration)
            case "--concurrency": generator.concurrency = Int(try number(arg, 1...Double(maxConcurrency)))
            case "-h", "--help": throw DemoConfig.Help()
            default:
                guard url == nil, let parsed = URL(string: arg), parsed.scheme == "http", parsed.host != nil else {
                    throw DemoConfig.Invalid(description: "want one http:// URL, got \(arg)")
                }
                url = parsed
            }
        }
        guard let url else { throw DemoConfig.Invalid(description: "load needs a target URL") }
        generator.url = url
        return generator
    }

    /// Requests started at `start + i / rps`, by `concurrency` workers; returns counts by
    /// status (0: no answer).
    func run() async -> [Int: Int] {
        let total = max(1, Int((requestsPerSecond * duration).rounded()))
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 5
        let session = URLSession(configuration: configuration)
        let next = Locked(0)
        let counts = Locked<[Int: Int]>([:])
        let clock = ContinuousClock()
        let start = clock.now
        let interval = 1.0 / requestsPerSecond
        let url = self.url
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while true {
                        let i = next.withLock { n -> Int in defer { n += 1 }; return n }
                        guard i < total else { return }
                        try? await Task.sleep(until: start.advanced(by: .milliseconds(Int64(Double(i) * interval * 1000))), clock: clock)
                        var code = 0
                        if let (_, response) = try? await session.data(from: url), let http = response as? HTTPURLResponse {
                            code = http.statusCode
                        }
                        counts.withLock { $0[code, default: 0] += 1 }
                    }
                }
            }
        }
        return counts.withLock { $0 }
    }

    static func summary(_ counts: [Int: Int], url: URL, seconds: Double) -> String {
        let sent = counts.values.reduce(0, +)
        let byCode = counts.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "no answer" : String($0.key)): \($0.value)" }
        return "sent \(sent) requests to \(url.absoluteString) in \(String(format: "%.1f", seconds))s (\(String(format: "%.1f", Double(sent) / max(seconds, 0.001))) per second); " + byCode.joined(separator: ", ")
    }
}
