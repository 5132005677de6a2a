import ArgumentParser
import KubeClient

/// `kubectl api-resources`: the preferred version of every served resource, sorted by group
/// then name, in kubectl's columns.
struct APIResources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api-resources",
        abstract: "Print the supported API resources on the server")

    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format. One of: (wide, name).")
    var output: String?
    @Option(name: .customLong("namespaced"), help: "If false, non-namespaced resources will be returned, otherwise returning namespaced resources by default.")
    var namespaced: Bool?
    @Option(name: .customLong("api-group"), help: "Limit to resources in the specified API group.")
    var apiGroup: String?
    @Flag(name: .customLong("no-headers"), help: "When using the default or custom-column output format, don't print headers (default print headers).")
    var noHeaders = false
    @Option(name: .customLong("sort-by"), help: "If non-empty, sort list of resources using specified field. The field can be either 'name' or 'kind'.")
    var sortBy: String?

    func run() async throws {
        let all = try await Session.with(global) { try await $0.mapper().resources.preferred }
        var resources = all.filter { r in
            (namespaced.map { r.namespaced == $0 } ?? true) && (apiGroup.map { r.group == $0 } ?? true)
        }
        switch sortBy {
        case "kind": resources.sort { ($0.kind, $0.group) < ($1.kind, $1.group) }
        default: resources.sort { ($0.group, $0.name) < ($1.group, $1.name) }
        }
        if output == "name" {
            Terminal.write(resources.map { $0.groupResource + "\n" }.joined())
            return
        }
        let wide = output == "wide"
        var rows: [[String]] = []
        if !noHeaders {
            rows.append(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (wide ? ["VERBS", "CATEGORIES"] : []))
        }
        for r in resources {
            var row = [r.name, r.shortNames.joined(separator: ","), r.groupVersion, r.namespaced ? "true" : "false", r.kind]
            if wide { row += [r.verbs.sorted().joined(separator: ","), r.categories.joined(separator: ",")] }
            rows.append(row)
        }
        Terminal.write(TabWriter.align(rows))
    }
}
