import KubeModel

/// The discovery documents client-go reads to map kinds to resources: `/api`, `/apis`,
/// `/api/v1` and `/apis/{group}/{version}` (legacy, unaggregated form).
public struct Discovery: Sendable {
    let catalog: ResourceCatalog

    public init(catalog: ResourceCatalog) { self.catalog = catalog }

    /// `/version`; helm refuses a server whose gitVersion is not semver.
    public static let version: JSONValue = [
        "major": "1", "minor": "33", "gitVersion": "v1.33.0+caravel", "gitCommit": "caravel",
        "gitTreeState": "clean", "buildDate": "2026-11-21T00:00:00Z", "goVersion": "swift6", "compiler": "swift",
        "platform": "linux/amd64",
    ]

    func coreVersions(host: String?) -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(host ?? "127.0.0.1")]]]
    }

    func groupList() -> JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(catalog.groups.filter { !$0.name.isEmpty }.map(group))]
    }

    func group(_ g: (name: String, versions: [String])) -> JSONValue {
        let versions: [JSONValue] = g.versions.map { ["groupVersion": .string("\(g.name)/\($0)"), "version": .string($0)] }
        return ["name": .string(g.name), "versions": .array(versions), "preferredVersion": versions.first ?? .null]
    }

    /// The discovery document at `path`, or nil when the path is not a discovery path.
    func document(path: String) -> JSONValue? {
        let parts = path.split(separator: "/").map(String.init)
        if parts == ["api", "v1"] { return resourceList(group: "", version: "v1") }
        guard parts.first == "apis" else { return nil }
        if parts.count == 2 {
            guard let g = catalog.groups.first(where: { $0.name == parts[1] && !$0.name.isEmpty }) else { return nil }
            var doc = group(g)
            doc["kind"] = "APIGroup"
            doc["apiVersion"] = "v1"
            return doc
        }
        if parts.count == 3, catalog.groups.contains(where: { $0.name == parts[1] && $0.versions.contains(parts[2]) }) {
            return resourceList(group: parts[1], version: parts[2])
        }
        return nil
    }

    static let verbs: JSONValue = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// The verbs a resource serves: all of them, or what its own storage serves.
    static func verbs(of strategy: any ResourceStrategy) -> JSONValue {
        strategy.storage.map { .array($0.verbs.map(JSONValue.string)) } ?? verbs
    }

    func resourceList(group: String, version: String) -> JSONValue {
        var resources: [JSONValue] = []
        for s in catalog.strategies(group: group, version: version) {
            let d = s.definition
            var r: JSONValue = ["name": .string(d.plural), "singularName": .string(d.singular), "namespaced": .bool(d.namespaced),
                                "kind": .string(d.kind), "verbs": Self.verbs(of: s)]
            if !d.shortNames.isEmpty { r["shortNames"] = .array(d.shortNames.map(JSONValue.string)) }
            if !d.categories.isEmpty { r["categories"] = .array(d.categories.map(JSONValue.string)) }
            resources.append(r)
            for sub in Subresource.allCases where d.subresources.contains(sub) {
                resources.append(subresourceEntry(sub, of: d))
            }
        }
        let gv = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(gv), "resources": .array(resources)]
    }

    func subresourceEntry(_ sub: Subresource, of d: ResourceDefinition) -> JSONValue {
        var e: JSONValue = ["name": .string("\(d.plural)/\(sub.rawValue)"), "singularName": "", "namespaced": .bool(d.namespaced)]
        switch sub {
        case .status, .approval: e["kind"] = .string(d.kind); e["verbs"] = ["get", "patch", "update"]
        case .scale: e["group"] = "autoscaling"; e["version"] = "v1"; e["kind"] = "Scale"; e["verbs"] = ["get", "patch", "update"]
        case .log: e["kind"] = "Pod"; e["verbs"] = ["get"]
        case .binding: e["kind"] = "Binding"; e["verbs"] = ["create"]
        case .exec: e["kind"] = "PodExecOptions"; e["verbs"] = ["create", "get"]
        case .attach: e["kind"] = "PodAttachOptions"; e["verbs"] = ["create", "get"]
        case .portforward: e["kind"] = "PodPortForwardOptions"; e["verbs"] = ["create", "get"]
        case .eviction: e["group"] = "policy"; e["version"] = "v1"; e["kind"] = "Eviction"; e["verbs"] = ["create"]
        case .token: e["group"] = "authentication.k8s.io"; e["version"] = "v1"; e["kind"] = "TokenRequest"; e["verbs"] = ["create"]
        case .finalize: e["kind"] = .string(d.kind); e["verbs"] = ["update"]
        }
        return e
    }
}
