import KubeClient
import KubeModel

/// Reads objects and server-rendered tables, following `continue` tokens like kubectl
/// (`limit=500` per page).
struct ResourceReader {
    static let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

    let client: KubeRESTClient

    /// Every object of a collection, each with `apiVersion` and `kind` set; also the list's
    /// resourceVersion (where a watch starts).
    func list(_ r: APIResourceInfo, namespace: String?, selectors: [String: String]) async throws -> (items: [JSONValue], resourceVersion: String) {
        var items: [JSONValue] = []
        var query = selectors
        query["limit"] = "500"
        var rv = ""
        while true {
            let page = try await client.list(r.path(namespace: namespace).path, query: query)
            rv = page["metadata"]?["resourceVersion"]?.stringValue ?? rv
            for item in page["items"]?.arrayValue ?? [] { items.append(Self.typed(item, r)) }
            guard let token = page["metadata"]?["continue"]?.stringValue, !token.isEmpty else { break }
            query["continue"] = token
        }
        return (items, rv)
    }

    /// One object with `apiVersion` and `kind` set.
    func get(_ r: APIResourceInfo, namespace: String?, name: String) async throws -> JSONValue {
        Self.typed(try await client.get(r.path(namespace: namespace, name: name).path), r)
    }

    /// The server's Table for a collection (all pages) or one object.
    func table(_ r: APIResourceInfo, namespace: String?, name: String? = nil, selectors: [String: String] = [:],
               includeObject: Bool = false) async throws -> (table: ServerTable, resourceVersion: String) {
        var query = selectors
        if name == nil { query["limit"] = "500" }
        if includeObject { query["includeObject"] = "Object" }
        var merged: ServerTable?
        var rv = ""
        while true {
            let bytes = try await client.raw("GET", r.path(namespace: namespace, name: name).path, query: query,
                                             headers: [("Accept", Self.tableAccept)])
            let doc = try JSONParser.parse(bytes)
            guard let page = ServerTable(json: doc) else {
                // A server without tables: one name column from the objects themselves.
                let items = doc["items"]?.arrayValue ?? [doc]
                let rows = items.map { ServerTable.Row(cells: [$0["metadata"]?["name"] ?? .null], object: $0) }
                return (ServerTable(columns: [.init(name: "Name", priority: 0)], rows: rows),
                        doc["metadata"]?["resourceVersion"]?.stringValue ?? "")
            }
            rv = doc["metadata"]?["resourceVersion"]?.stringValue ?? rv
            if merged == nil { merged = page } else { merged?.rows += page.rows }
            guard name == nil, let token = doc["metadata"]?["continue"]?.stringValue, !token.isEmpty else { break }
            query["continue"] = token
        }
        return (merged ?? ServerTable(columns: [], rows: []), rv)
    }

    /// Lists leave `apiVersion` and `kind` off their items; kubectl puts them back.
    static func typed(_ object: JSONValue, _ r: APIResourceInfo) -> JSONValue {
        guard case .object(var o) = object else { return object }
        if o["apiVersion"] == nil { o["apiVersion"] = .string(r.groupVersion) }
        if o["kind"] == nil { o["kind"] = .string(r.kind) }
        return .object(o)
    }
}
