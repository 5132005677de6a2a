import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl wait TYPE/NAME --for=condition=C[=V] | --for=delete | --for=jsonpath='{...}'=V
/// [--timeout=30s]`: polls each object until the condition holds.
struct Wait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Experimental: Wait for a specific condition on one or many resources")
    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: .customLong("for")) var condition: String?
    @Option(name: .customLong("timeout")) var timeout: String = "30s"
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Flag(name: .customLong("all")) var all = false

    enum Goal {
        case deleted
        case condition(String, String)
        case jsonPath(JSONPath, String?)
    }

    func goal() throws -> Goal {
        guard let condition else { throw CommandFailure.error("--for must be set") }
        if condition == "delete" { return .deleted }
        if condition.hasPrefix("condition=") {
            let rest = condition.dropFirst(10)
            let parts = rest.split(separator: "=", maxSplits: 1).map(String.init)
            return .condition(parts[0].lowercased(), parts.count > 1 ? parts[1] : "true")
        }
        if condition.hasPrefix("jsonpath=") {
            let rest = ObjectPrinter.unquote(String(condition.dropFirst(9)))
            var expr = rest
            var value: String? = nil
            if let close = rest.lastIndex(of: "}"), let eq = rest[close...].firstIndex(of: "=") {
                expr = String(rest[...close])
                value = ObjectPrinter.unquote(String(rest[rest.index(after: eq)...]))
            }
            do { return .jsonPath(try JSONPath(expr), value) } catch {
                throw CommandFailure.error("unrecognized condition: \"\(condition)\"")
            }
        }
        throw CommandFailure.error("unrecognized condition: \"\(condition)\"")
    }

    static func holds(_ goal: Goal, _ object: JSONValue) -> Bool {
        switch goal {
        case .deleted: return false
        case .condition(let type, let status):
            return (object["status"]?["conditions"]?.arrayValue ?? []).contains {
                $0["type"]?.stringValue?.lowercased() == type && $0["status"]?.stringValue?.lowercased() == status.lowercased()
            }
        case .jsonPath(let path, let value):
            let values = path.values(object)
            guard let value else { return !values.isEmpty }
            return values.contains { JSONPath.text($0) == value }
        }
    }

    func run() async throws {
        let goal = try goal()
        let seconds = DurationParser.seconds(timeout) ?? 30
        let deadline = Date().addingTimeInterval(seconds)
        try await Session.with(global) { session in
            let client = try session.client()
            let refs = try await ObjectRef.select(args, session: session, selector: selector, all: all)
            if refs.isEmpty { throw CommandFailure.error("no matching resources found") }
            for ref in refs {
                while true {
                    do {
                        let object = try await client.get(ref.path)
                        if Self.holds(goal, object) { break }
                    } catch let e as KubeAPIError where e.isNotFound {
                        if case .deleted = goal { break }
                        throw e
                    }
                    if Date() >= deadline { throw CommandFailure.error("timed out waiting for the condition on \(ref.resource.name)/\(ref.name)") }
                    try await Task.sleep(for: .milliseconds(200))
                }
                Terminal.write("\(ref.display) condition met\n")
            }
        }
    }
}
