import KubeModel

extension Registry {
    static let scaleDefinition = ResourceDefinition(group: "autoscaling", versions: ["v1"], kind: "Scale", plural: "scale",
                                                   namespaced: true, schemaNames: ["v1": "io.k8s.api.autoscaling.v1.Scale"])

    /// The autoscaling/v1 Scale view of an object, read at the kind's `paths`.
    static func scale(of object: JSONValue, paths: ScalePaths = .workload) -> JSONValue {
        var meta: JSONValue = [:]
        for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { meta[k] = object.metadata[k] }
        var status: JSONValue = ["replicas": object[path: paths.statusReplicas] ?? .int(0)]
        switch paths.selector {
        case .labelSelector(let path):
            if let sel = object[path: path], let parsed = try? LabelSelector.fromJSON(sel) { status["selector"] = .string(parsed.description) }
        case .string(let path):
            if let sel = object[path: path]?.stringValue { status["selector"] = .string(sel) }
        case .labelMap(let path):
            if let labels = object[path: path]?.objectValue {
                let pairs = labels.keys.sorted().map { "\($0)=\(labels[$0]?.stringValue ?? "")" }
                status["selector"] = .string(pairs.joined(separator: ","))
            }
        case .none:
            break
        }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                "spec": ["replicas": object[path: paths.specReplicas] ?? .int(0)], "status": status]
    }

    public func getScale(_ strategy: any ResourceStrategy, namespace: String?, name: String) async throws(APIError) -> JSONValue {
        Self.scale(of: try await current(strategy, namespace: namespace, name: name).object, paths: strategy.scalePaths)
    }

    /// PUT or PATCH of `/scale`: only `spec.replicas` of the object changes.
    public func updateScale(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String,
                            options: WriteOptions, change: @escaping @Sendable (JSONValue) throws -> JSONValue) async throws(APIError) -> WriteResult {
        let scaleDef = Self.scaleDefinition
        let paths = strategy.scalePaths
        let result = try await guaranteedUpdate(strategy, version: version, namespace: namespace, name: name, target: .main, options: options) { current in
            let requested = try change(Self.scale(of: current, paths: paths))
            if let k = requested["kind"]?.stringValue, k != "Scale" {
                throw APIError.badRequest("the kind in the request body (\"\(k)\") does not match the expected kind Scale")
            }
            guard let replicas = requested[path: ["spec", "replicas"]]?.intValue else {
                throw APIError.invalid(scaleDef, name, [.required("spec.replicas")])
            }
            if replicas < 0 || replicas > Int64(Int32.max) {
                throw APIError.invalid(scaleDef, name, [.invalid("spec.replicas", String(replicas), "must be greater than or equal to 0")])
            }
            var updated = current
            updated[path: paths.specReplicas] = .int(replicas)
            // The Scale's resourceVersion is the object's: a stale one is a conflict.
            if let rv = requested.resourceVersion, !rv.isEmpty { updated[path: ["metadata", "resourceVersion"]] = .string(rv) }
            return updated
        }
        return WriteResult(object: Self.scale(of: result.object, paths: paths), code: 200, warnings: result.warnings)
    }
}
