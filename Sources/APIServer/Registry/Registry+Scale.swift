import KubeModel

extension Registry {
    static let scaleDefinition = ResourceDefinition(group: "autoscaling", versions: ["v1"], kind: "Scale", plural: "scale",
                                                   namespaced: true, schemaNames: ["v1": "io.k8s.api.autoscaling.v1.Scale"])

    /// The autoscaling/v1 Scale view of an object with `spec.replicas`.
    static func scale(of object: JSONValue, _ strategy: any ResourceStrategy) -> JSONValue {
        var meta: JSONValue = [:]
        for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { meta[k] = object.metadata[k] }
        var status: JSONValue = ["replicas": object[path: ["status", "replicas"]] ?? .int(0)]
        if let selector = strategy.scaleSelector(of: object) { status["selector"] = .string(selector) }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                "spec": ["replicas": object[path: ["spec", "replicas"]] ?? .int(0)], "status": status]
    }

    public func getScale(_ strategy: any ResourceStrategy, namespace: String?, name: String) async throws(APIError) -> JSONValue {
        Self.scale(of: try await current(strategy, namespace: namespace, name: name).object, strategy)
    }

    /// PUT or PATCH of `/scale`: only `spec.replicas` of the object changes.
    public func updateScale(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String,
                            options: WriteOptions, change: @escaping @Sendable (JSONValue) throws -> JSONValue) async throws(APIError) -> WriteResult {
        let scaleDef = Self.scaleDefinition
        let result = try await guaranteedUpdate(strategy, version: version, namespace: namespace, name: name, target: .main, options: options) { current in
            let requested = try change(Self.scale(of: current, strategy))
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
            updated[path: ["spec", "replicas"]] = .int(replicas)
            // The Scale's resourceVersion is the object's: a stale one is a conflict.
            if let rv = requested.resourceVersion, !rv.isEmpty { updated[path: ["metadata", "resourceVersion"]] = .string(rv) }
            return updated
        }
        return WriteResult(object: Self.scale(of: result.object, strategy), code: 200, warnings: result.warnings)
    }
}
