import Foundation
import KubeModel

/// The generic registry: every verb on every resource, with the strategy supplying the
/// per-kind parts. Objects are kept in each resource's storage version; requests in another
/// served version are converted at the edge.
public final class Registry: Sendable {
    public let store: any Store
    /// The kinds served now, built-in and custom, with their documents.
    public let surface: APISurface
    public var catalog: ResourceCatalog { surface.current.catalog }
    let clock: @Sendable () -> Date
    /// What this server allocates, signs with and connects through, for strategies' hooks and handlers.
    public let environment: ServerEnvironment
    /// Admission plugins run on every create (`AdmissionChain`).
    let admission: AdmissionChain
    /// How long a read waits for a resourceVersion newer than the store's (written through
    /// another API server, or not yet at all) before the 504 kube-apiserver answers.
    let revisionWait: Duration
    /// In-memory copies of what admission reads on every write, by group-resource.
    let mirrors: [String: ObjectMirror]

    public init(store: any Store, catalog: ResourceCatalog, admission: AdmissionChain = AdmissionChain(),
                environment: ServerEnvironment = ServerEnvironment(), clock: @escaping @Sendable () -> Date = { Date() },
                revisionWait: Duration = .seconds(3)) {
        self.store = store
        self.revisionWait = revisionWait
        self.surface = APISurface(builtins: catalog.strategies)
        self.mirrors = Self.mirrors(catalog)
        self.admission = admission
        self.environment = environment
        self.clock = clock
    }

    var namespaces: any ResourceStrategy {
        guard let ns = catalog.strategy(group: "", plural: "namespaces") else { fatalError("namespaces must be served") }
        return ns
    }

    // MARK: shared steps

    /// Checks a request body's apiVersion and kind against the endpoint, prunes fields the
    /// schema does not know (reporting them per `fieldValidation`) and converts the object to
    /// the storage version.
    func admitBody(_ body: JSONValue, strategy: any ResourceStrategy, version: String, options: WriteOptions,
                   kind: String? = nil) async throws(APIError) -> (JSONValue, [String]) {
        let def = strategy.definition
        guard body.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON or YAML object") }
        var object = body
        let expectedKind = kind ?? def.kind
        let expectedAPIVersion = def.apiVersion(version)
        if let k = object["kind"] {
            guard k.stringValue == expectedKind else {
                throw APIError.badRequest("the kind in the request body (\(FieldError.show(k))) does not match the expected kind \(expectedKind)")
            }
        } else {
            object["kind"] = .string(expectedKind)
        }
        if let v = object["apiVersion"] {
            guard v.stringValue == expectedAPIVersion else {
                throw APIError.badRequest("the API version in the data (\(v.stringValue ?? "?")) does not match the expected API version (\(expectedAPIVersion))")
            }
        } else {
            object["apiVersion"] = .string(expectedAPIVersion)
        }
        var warnings: [String] = []
        var unknownFields: [String] = []
        if let dropped = strategy.pruneUnknownFields(&object, version: version) {
            unknownFields = dropped
        } else if let typeName = def.schemaNames[version] {
            let result = SchemaValidator.prune(&object, typeName: typeName)
            if !result.typeErrors.isEmpty {
                throw APIError.badRequest("\(def.kind) in version \"\(version)\" cannot be handled as a \(def.kind): " + result.typeErrors.joined(separator: ", "))
            }
            unknownFields = result.unknownFields
        }
        if !unknownFields.isEmpty {
            let msgs = unknownFields.map { "unknown field \"\($0)\"" }
            switch options.fieldValidation {
            case .strict: throw APIError.badRequest("strict decoding error: " + msgs.joined(separator: ", "))
            case .warn: warnings += msgs
            case .ignore: break
            }
        }
        if let webhook = strategy.conversionWebhook, version != def.storageVersion {
            object = try await convertByWebhook([object], webhook, strategy: strategy, to: def.storageVersion)[0]
            return (object, warnings)
        }
        do {
            object = try strategy.convertToStorage(object, fromVersion: version)
        } catch {
            throw APIError.badRequest("cannot convert \(def.kind) from \(version): \(error)")
        }
        return (object, warnings)
    }

    /// The object as a client of `version` sees it.
    func present(_ object: JSONValue, strategy: any ResourceStrategy, version: String) async throws(APIError) -> JSONValue {
        if version == strategy.definition.storageVersion { return object }
        if let webhook = strategy.conversionWebhook {
            return try await convertByWebhook([object], webhook, strategy: strategy, to: version)[0]
        }
        do {
            return try strategy.convert(object, toVersion: version)
        } catch {
            throw APIError.internalError("cannot convert \(strategy.definition.kind) to \(version): \(error)")
        }
    }

    /// Refuses writes into a namespace that is missing or being deleted.
    func checkNamespace(_ namespace: String, def: ResourceDefinition, name: String) async throws(APIError) {
        guard let ns = try await admissionFind(namespaces, namespace: nil, name: namespace) else {
            throw APIError(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
                           details: ["name": .string(namespace), "kind": "namespaces"])
        }
        if ns[path: ["metadata", "deletionTimestamp"]] != nil {
            throw APIError.forbidden(def, name, "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    func runValidation(_ errors: [FieldError], def: ResourceDefinition, name: String) throws(APIError) {
        if !errors.isEmpty { throw APIError.invalid(def, name, errors) }
    }

    /// Maps store failures to Kubernetes errors.
    static func storeError(_ error: any Error, def: ResourceDefinition, name: String) -> APIError {
        if let e = error as? APIError { return e }
        guard let e = error as? StoreError else { return APIError.internalError(String(describing: error)) }
        switch e {
        case .notFound: return APIError.notFound(def, name)
        case .alreadyExists: return APIError.alreadyExists(def, name)
        case .conflict(_, let message): return APIError.conflict(def, name, message)
        case .compacted(let requested, let oldest):
            return APIError.gone("The resourceVersion for the provided list is too old (requested \(requested), oldest available \(oldest)).")
        case .io(let message): return APIError.internalError(message)
        }
    }

    func key(_ def: ResourceDefinition, _ namespace: String?, _ name: String) -> String {
        ResourceCatalog.key(def, namespace: namespace, name: name)
    }
}
