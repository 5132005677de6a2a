import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl events [-A] [--for TYPE/NAME] [--types Warning]`: events, oldest first.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List events")
    @OptionGroup var global: GlobalOptions
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")]) var allNamespaces = false
    @Option(name: .customLong("for")) var forObject: String?
    @Option(name: .customLong("types")) var types: [String] = []
    @Flag(name: .customLong("no-headers")) var noHeaders = false

    /// The time an event last happened, as kubectl orders them.
    static func lastSeen(_ e: JSONValue) -> String {
        e["lastTimestamp"]?.stringValue ?? e["eventTime"]?.stringValue ?? e["firstTimestamp"]?.stringValue
            ?? e["metadata"]?["creationTimestamp"]?.stringValue ?? ""
    }

    func run() async throws {
        try await Session.with(global) { session in
            let ns = try session.namespace()
            var query: [String: String] = [:]
            if let forObject {
                let ref = try await ObjectRef.select([forObject.contains("/") ? forObject : "pod/" + forObject], session: session)[0]
                query["fieldSelector"] = "involvedObject.kind=\(ref.resource.kind),involvedObject.name=\(ref.name)"
            }
            let path = allNamespaces ? "/api/v1/events" : "/api/v1/namespaces/\(ns)/events"
            var events = try await session.client().list(path, query: query)["items"]?.arrayValue ?? []
            let wanted = Set(types.flatMap { $0.split(separator: ",").map { $0.lowercased() } })
            if !wanted.isEmpty { events = events.filter { wanted.contains(($0["type"]?.stringValue ?? "").lowercased()) } }
            if events.isEmpty {
                Terminal.printError(allNamespaces ? "No events found." : "No events found in \(ns) namespace.")
                return
            }
            events.sort { Self.lastSeen($0) < Self.lastSeen($1) }
            var rows: [[String]] = noHeaders ? [] : [(allNamespaces ? ["NAMESPACE"] : []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
            for e in events {
                let obj = e["involvedObject"]
                var row = allNamespaces ? [e["metadata"]?["namespace"]?.stringValue ?? ""] : []
                let count = e["count"]?.intValue ?? 1
                var seen = HumanDuration.since(Self.lastSeen(e))
                if count > 1 { seen += " (x\(count) over \(HumanDuration.since(e["firstTimestamp"]?.stringValue ?? Self.lastSeen(e))))" }
                row += [seen, e["type"]?.stringValue ?? "", e["reason"]?.stringValue ?? "",
                        "\(obj?["kind"]?.stringValue ?? "")/\(obj?["name"]?.stringValue ?? "")",
                        (e["message"]?.stringValue ?? "").trimmingCharacters(in: "\n ")]
                rows.append(row)
            }
            Terminal.write(TabWriter.align(rows))
        }
    }
}
