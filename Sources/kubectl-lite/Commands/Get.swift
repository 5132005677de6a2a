import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl get`: tables from the server, or full objects in the `-o` format.
struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Display one or many resources")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "TYPE[.VERSION][.GROUP] [NAME ...] | TYPE/NAME ...") var args: [String] = []
    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: json|yaml|name|wide|jsonpath=...|custom-columns=...")
    var output: String?
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List the requested object(s) across all namespaces.")
    var allNamespaces = false
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Selector (label query) to filter on")
    var selector: String?
    @Option(name: .customLong("field-selector"), help: "Selector (field query) to filter on")
    var fieldSelector: String?
    @Flag(name: .customLong("show-labels"), help: "When printing, show all labels as the last column")
    var showLabels = false
    @Flag(name: .customLong("show-kind"), help: "If present, list the resource type for the requested object(s).")
    var showKind = false
    @Flag(name: .customLong("no-headers"), help: "When using the default or custom-column output format, don't print headers")
    var noHeaders = false
    @Option(name: .customLong("sort-by"), help: "Sort list types using this field specification (a JSONPath expression)")
    var sortBy: String?
    @Flag(name: [.customShort("w"), .customLong("watch")], help: "After listing/getting the requested object, watch for changes.")
    var watch = false
    @Flag(name: .customLong("watch-only"), help: "Watch for changes to the requested object(s), without listing/getting first.")
    var watchOnly = false
    @Flag(name: .customLong("ignore-not-found"), help: "If the requested object does not exist the command will return exit code 0.")
    var ignoreNotFound = false
    @Option(name: .customLong("chunk-size"), help: "Return large lists in chunks rather than all at once.")
    var chunkSize: Int?
    @Flag(name: .customLong("show-managed-fields"), help: "If true, keep the managedFields when printing objects in JSON or YAML format.")
    var showManagedFields = false

    func run() async throws {
        let format = try OutputFormat(output)
        guard !args.isEmpty else {
            throw CommandFailure("""
                You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.

                error: Required resource not specified.
                Use "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).
                See 'kubectl get -h' for help and examples
                """)
        }
        let requests = try ResourceArguments(args).requests
        try await Session.with(global) { session in
            let namespace = try session.namespace()
            var targets: [(APIResourceInfo, [String])] = []
            for request in requests {
                for r in try await session.resolve(request.type) { targets.append((r, request.names)) }
            }
            let reader = ResourceReader(client: try session.client())
            var selectors: [String: String] = [:]
            if let selector { selectors["labelSelector"] = selector }
            if let fieldSelector { selectors["fieldSelector"] = fieldSelector }
            let scope = { (r: APIResourceInfo) in r.namespaced && !allNamespaces ? namespace : nil }
            var failures: [String] = []
            var out = ""
            if format.isTable {
                let withKind = showKind || Set(targets.map { $0.0.groupResource }).count > 1
                var watchFrom: [(APIResourceInfo, String, TabWriter)] = []
                var printedTables = 0
                for (r, names) in targets {
                    var table: ServerTable?
                    var rv = ""
                    if !watchOnly {
                        if names.isEmpty {
                            let t = try await reader.table(r, namespace: scope(r), selectors: selectors, includeObject: sortBy != nil)
                            table = t.table
                            rv = t.resourceVersion
                        } else {
                            for name in names {
                                do {
                                    let t = try await reader.table(r, namespace: scope(r), name: name, includeObject: sortBy != nil)
                                    if table == nil { table = t.table } else { table?.rows += t.table.rows }
                                } catch let e as KubeAPIError where e.isNotFound {
                                    if !ignoreNotFound { failures.append(CommandFailure.serverError(e)) }
                                }
                            }
                        }
                    }
                    if var t = table, let sortBy { t.rows = try Sorting.sort(t.rows, by: sortBy) { $0.object ?? .null } ; table = t }
                    let options = ServerTable.PrintOptions(
                        wide: format == .wide, withNamespace: allNamespaces && r.namespaced, showLabels: showLabels,
                        kindPrefix: withKind ? r.kindPrefix : nil, noHeaders: noHeaders)
                    var writer = TabWriter()
                    if let t = table, !t.rows.isEmpty {
                        if printedTables > 0 { out += "\n" }
                        out += writer.format(t.lines(options))
                        printedTables += 1
                    }
                    if watch || watchOnly { watchFrom.append((r, rv, writer)) }
                }
                Terminal.write(out)
                let namedOnly = targets.allSatisfy { !$0.1.isEmpty }
                if printedTables == 0 && failures.isEmpty && !watch && !watchOnly && !(ignoreNotFound && namedOnly) {
                    Terminal.printError(Self.noResources(targets.map(\.0), namespace: namespace, allNamespaces: allNamespaces))
                }
                if !failures.isEmpty { throw CommandFailure(failures.joined(separator: "\n")) }
                if let (r, rv, writer) = watchFrom.first {
                    let options = ServerTable.PrintOptions(
                        wide: format == .wide, withNamespace: allNamespaces && r.namespaced, showLabels: showLabels,
                        kindPrefix: withKind ? r.kindPrefix : nil, noHeaders: noHeaders || printedTables > 0)
                    try await WatchPrinter(client: try session.client()).watch(
                        r, namespace: scope(r), name: targets.first?.1.first, selectors: selectors,
                        resourceVersion: rv, options: options, writer: writer)
                }
                return
            }
            var objects: [JSONValue] = []
            var single = targets.count == 1 && targets[0].1.count == 1
            for (r, names) in targets {
                if names.isEmpty {
                    objects += try await reader.list(r, namespace: scope(r), selectors: selectors).items
                    single = false
                } else {
                    for name in names {
                        do { objects.append(try await reader.get(r, namespace: scope(r), name: name)) } catch let e as KubeAPIError where e.isNotFound {
                            if !ignoreNotFound { failures.append(CommandFailure.serverError(e)) }
                        }
                    }
                }
            }
            if let sortBy { objects = try Sorting.sort(objects, by: sortBy) { $0 } }
            var printer = ObjectPrinter(format: format)
            printer.noHeaders = noHeaders
            printer.showManagedFields = showManagedFields
            if !(single && objects.isEmpty) {
                if objects.isEmpty, format == .name || format == .table || { if case .customColumns = format { return true }; return false }() {
                    if failures.isEmpty {
                        Terminal.printError(Self.noResources(targets.map(\.0), namespace: namespace, allNamespaces: allNamespaces))
                    }
                } else {
                    Terminal.write(try printer.render(objects, single: single))
                }
            }
            if !failures.isEmpty { throw CommandFailure(failures.joined(separator: "\n")) }
        }
    }

    /// kubectl's notice for an empty answer (on stderr, exit code 0).
    static func noResources(_ resources: [APIResourceInfo], namespace: String, allNamespaces: Bool) -> String {
        if !allNamespaces && resources.contains(where: \.namespaced) {
            return "No resources found in \(namespace) namespace."
        }
        return "No resources found"
    }
}

extension APIResourceInfo {
    /// `deployment.apps`, `pod`: the prefix kubectl puts before names when kinds are mixed.
    var kindPrefix: String { group.isEmpty ? kind.lowercased() : kind.lowercased() + "." + group }
    /// `deployments.apps`, `pods`: how kubectl names the resource in error messages.
    var qualifiedName: String { group.isEmpty ? name : name + "." + group }
}
