import KubeModel

/// Computes the files of secret, configMap, downwardAPI and projected volumes.
struct VolumePayload {
    var fetcher: ObjectFetcher
    let context: PodContext
    /// Sources left out (serviceAccountToken, clusterTrustBundle), to be logged.
    var skipped: [String] = []
    /// Fills `serviceAccountToken` sources when the source can request tokens.
    var tokens: ServiceAccountTokenCache?
    let tokenSource: (any ServiceAccountTokenSource)?

    init(source: any ObjectSource, context: PodContext) {
        self.fetcher = ObjectFetcher(source: source, namespace: context.namespace)
        self.context = context
        self.tokenSource = source as? any ServiceAccountTokenSource
    }

    /// The payload of an API-data volume (`kind` is its key in the volume spec).
    mutating func build(kind: String, spec: JSONValue) async throws -> [String: VolumeFile] {
        var out: [String: VolumeFile] = [:]
        let defaultMode = Self.mode(spec["defaultMode"]) ?? 0o644
        switch kind {
        case "secret":
            try await secret(name: spec["secretName"]?.stringValue ?? "", spec: spec, defaultMode: defaultMode, into: &out)
        case "configMap":
            try await configMap(name: spec["name"]?.stringValue ?? "", spec: spec, defaultMode: defaultMode, into: &out)
        case "downwardAPI":
            try downwardAPI(spec, defaultMode: defaultMode, into: &out)
        case "projected":
            for source in spec["sources"]?.arrayValue ?? [] {
                if let s = source["secret"] {
                    try await secret(name: s["name"]?.stringValue ?? "", spec: s, defaultMode: defaultMode, into: &out)
                } else if let c = source["configMap"] {
                    try await configMap(name: c["name"]?.stringValue ?? "", spec: c, defaultMode: defaultMode, into: &out)
                } else if let d = source["downwardAPI"] {
                    try downwardAPI(d, defaultMode: defaultMode, into: &out)
                } else if let t = source["serviceAccountToken"], let tokens, let tokenSource {
                    let token = try await tokens.token(for: t, context: context, source: tokenSource)
                    try put(t["path"]?.stringValue ?? "", VolumeFile(data: token, mode: defaultMode), into: &out)
                } else if let other = source.objectValue?.keys.sorted().first {
                    // serviceAccountToken needs the TokenRequest API; clusterTrustBundle likewise.
                    skipped.append(other)
                }
            }
        default:
            break
        }
        return out
    }

    private mutating func secret(name: String, spec: JSONValue, defaultMode: UInt16,
                                 into out: inout [String: VolumeFile]) async throws {
        let optional = spec["optional"]?.boolValue == true
        guard let secret = try await fetcher.secret(name) else {
            if optional { return }
            throw DownwardValues.configError("secret \"\(name)\" not found")
        }
        let data = try ObjectData.secret(secret, namespace: context.namespace, name: name)
        try add(data, spec: spec, defaultMode: defaultMode, optional: optional,
                missing: "references non-existent secret key", into: &out)
    }

    private mutating func configMap(name: String, spec: JSONValue, defaultMode: UInt16,
                                    into out: inout [String: VolumeFile]) async throws {
        let optional = spec["optional"]?.boolValue == true
        guard let cm = try await fetcher.configMap(name) else {
            if optional { return }
            throw DownwardValues.configError("configmap \"\(name)\" not found")
        }
        let data = try ObjectData.configMap(cm, namespace: context.namespace, name: name)
        try add(data, spec: spec, defaultMode: defaultMode, optional: optional,
                missing: "configmap references non-existent config key", into: &out)
    }

    /// Every key as a file, or only the listed `items` (key → path, mode).
    private func add(_ data: [String: [UInt8]], spec: JSONValue, defaultMode: UInt16, optional: Bool,
                     missing: String, into out: inout [String: VolumeFile]) throws {
        guard let items = spec["items"]?.arrayValue, !items.isEmpty else {
            for (key, bytes) in data {
                try put(key, VolumeFile(data: bytes, mode: defaultMode), into: &out)
            }
            return
        }
        for item in items {
            let key = item["key"]?.stringValue ?? ""
            guard let bytes = data[key] else {
                if optional { continue }
                throw DownwardValues.configError("\(missing): \(key)")
            }
            let path = item["path"]?.stringValue ?? key
            try put(path, VolumeFile(data: bytes, mode: Self.mode(item["mode"]) ?? defaultMode), into: &out)
        }
    }

    private func downwardAPI(_ spec: JSONValue, defaultMode: UInt16, into out: inout [String: VolumeFile]) throws {
        for item in spec["items"]?.arrayValue ?? [] {
            let path = item["path"]?.stringValue ?? ""
            let value: String
            if let ref = item["fieldRef"] {
                value = try DownwardValues.field(ref["fieldPath"]?.stringValue ?? "", context: context, wholeMaps: true)
            } else if let ref = item["resourceFieldRef"] {
                let name = ref["containerName"]?.stringValue ?? ""
                guard let container = DownwardValues.container(named: name, in: context.pod) else {
                    throw DownwardValues.configError("container \(name) not found")
                }
                value = try DownwardValues.resource(ref, container: container, context: context)
            } else {
                continue
            }
            try put(path, VolumeFile(data: Array(value.utf8), mode: Self.mode(item["mode"]) ?? defaultMode), into: &out)
        }
    }

    private func put(_ path: String, _ file: VolumeFile, into out: inout [String: VolumeFile]) throws {
        guard let clean = AtomicWriter.normalize(path) else {
            throw DownwardValues.configError("invalid volume item path \"\(path)\": must be relative and must not contain '..'")
        }
        out[clean] = file
    }

    /// A file mode from the spec (a JSON number, 0…0777).
    static func mode(_ v: JSONValue?) -> UInt16? {
        guard let m = v?.intValue, m >= 0, m <= 0o777 else { return nil }
        return UInt16(m)
    }
}
