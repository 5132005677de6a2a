import KubeClient
import KubeModel

/// `get -w`: after the first table, one row per watch event, under the same header and
/// column widths (the server renders each event's object as a one-row Table).
struct WatchPrinter {
    let client: KubeRESTClient

    func watch(_ r: APIResourceInfo, namespace: String?, name: String?, selectors: [String: String],
               resourceVersion: String, options: ServerTable.PrintOptions, writer: TabWriter) async throws {
        var writer = writer
        var query = selectors
        if !resourceVersion.isEmpty { query["resourceVersion"] = resourceVersion }
        if let name { query["fieldSelector"] = "metadata.name=" + name }
        var headerDone = options.noHeaders
        let stream = try await client.watch(r.path(namespace: namespace).path, query: query,
                                            headers: [("Accept", ResourceReader.tableAccept)])
        for try await event in stream {
            guard let table = ServerTable(json: event.object) else { continue }
            var lines = table.rows.map { table.rowCells($0, options) }
            if !headerDone {
                lines.insert(table.headerCells(options), at: 0)
                headerDone = true
            }
            Terminal.write(writer.format(lines))
        }
    }
}
