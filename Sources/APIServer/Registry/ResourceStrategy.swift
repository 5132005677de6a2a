import Foundation
import KubeModel

/// Per-kind behaviour: defaulting, validation, server-owned fields, field selectors, table
/// columns, version conversion, the subresources served and the hooks the registry calls
/// around writes (graceful deletion, allocation). One conforming type per kind lives in
/// `Resources/<group>/<Kind>/`.
/// Generic behaviour (uid, timestamps, generation, resourceVersion, status subresource
/// semantics) is the registry's job, not the strategy's.
public protocol ResourceStrategy: Sendable {
    var definition: ResourceDefinition { get }
    /// Rule `metadata.name` must follow (most kinds: a DNS-1123 subdomain).
    var nameRule: NameRule { get }
    /// Whether a create keeps the client's `status` (a kubelet registers its Node with one);
    /// otherwise kinds with a status subresource start with an empty status.
    var keepsStatusOnCreate: Bool { get }
    /// Whether objects carry `metadata.generation`, bumped on spec changes (workloads do;
    /// ConfigMaps, Secrets, Namespaces and Services do not, as in Kubernetes).
    var tracksGeneration: Bool { get }

    /// Fills defaults as Kubernetes' defaulting does, on create and on update.
    func applyDefaults(to object: inout JSONValue)
    /// Sets server-owned state on create (e.g. a Pod's `status.phase: Pending`). Runs after
    /// the registry reset `status` for kinds with a status subresource.
    func prepareForCreate(_ object: inout JSONValue)
    /// Carries server-owned state from `old` on update of the main resource.
    func prepareForUpdate(_ object: inout JSONValue, old: JSONValue)
    /// Semantic validation of a new object (names, ports, selectors, ...).
    func validate(_ object: JSONValue) -> [FieldError]
    /// Validation of an update: the object's own rules plus immutable fields.
    func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError]
    /// Validation of a write to the `status` subresource.
    func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError]
    /// Kind-specific field selector values, e.g. `spec.nodeName` for pods. Return nil for
    /// fields the kind does not support (the request then gets 400).
    /// `metadata.name` and `metadata.namespace` are handled by the registry.
    func selectableField(_ field: String, of object: JSONValue) -> String??
    /// Columns for server-side printing (`kubectl get`). The first must be Name.
    var tableColumns: [TableColumn] { get }
    /// One cell per column, same order as `tableColumns`.
    func tableCells(for object: JSONValue, now: Date) -> [JSONValue]
    /// Converts a stored object to a served version (default: only `apiVersion` changes).
    func convert(_ object: JSONValue, toVersion version: String) throws -> JSONValue
    /// Converts an object in a served version to the storage version.
    func convertToStorage(_ object: JSONValue, fromVersion version: String) throws -> JSONValue
    /// A webhook converting between versions instead of `convert`/`convertToStorage` (a custom
    /// resource with `conversion.strategy: Webhook`).
    var conversionWebhook: ConversionWebhook? { get }
    /// Where the `scale` subresource reads and writes replicas (workloads: `spec.replicas`).
    var scalePaths: ScalePaths { get }
    /// Drops the fields the kind's own schema does not declare and answers their paths; nil
    /// for kinds checked against their built-in schema (`schemaNames`) instead.
    func pruneUnknownFields(_ object: inout JSONValue, version: String) -> [String]?

    // MARK: subresources and hooks

    /// The subresources served (`.status`, `.scale` or the kind's own); a subresource the
    /// definition lists without a handler answers 405.
    var subresourceHandlers: [SubresourceHandler] { get }
    /// Serves the kind without the store (nil: the registry serves it).
    var storage: ResourceStorage? { get }
    /// Seconds a DELETE leaves the object marked before it goes; nil deletes at once unless
    /// finalizers hold it (0 marks it and lets its finalizers' owner finish at once).
    func deletionGracePeriod(of object: JSONValue, options: DeleteOptions) -> Int64?
    /// Sets what marks an object whose graceful deletion began, beyond `deletionTimestamp`.
    func prepareForDeletion(_ object: inout JSONValue)
    /// Reserves what a create or update of the main resource needs beyond what `old` holds
    /// (addresses, ports), filling the object; the registry rolls the ticket back when the
    /// write fails and commits it when it succeeds.
    func allocate(_ object: inout JSONValue, old: JSONValue?, name: String, environment: ServerEnvironment) async throws(APIError) -> AllocationTicket?
    /// Frees what a deleted object held.
    func release(_ object: JSONValue, environment: ServerEnvironment) async
}

extension ResourceStrategy {
    public var nameRule: NameRule { .dns1123Subdomain }
    public var keepsStatusOnCreate: Bool { false }
    public var tracksGeneration: Bool { false }
    public func applyDefaults(to object: inout JSONValue) {}
    public func prepareForCreate(_ object: inout JSONValue) {}
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {}
    public func validate(_ object: JSONValue) -> [FieldError] { [] }
    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { validate(object) }
    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { [] }
    public func selectableField(_ field: String, of object: JSONValue) -> String?? { nil }
    public var subresourceHandlers: [SubresourceHandler] { [] }
    public var storage: ResourceStorage? { nil }
    public func deletionGracePeriod(of object: JSONValue, options: DeleteOptions) -> Int64? { nil }
    public func prepareForDeletion(_ object: inout JSONValue) {}
    public func allocate(_ object: inout JSONValue, old: JSONValue?, name: String, environment: ServerEnvironment) async throws(APIError) -> AllocationTicket? { nil }
    public func release(_ object: JSONValue, environment: ServerEnvironment) async {}
    public func pruneUnknownFields(_ object: inout JSONValue, version: String) -> [String]? { nil }
    public var scalePaths: ScalePaths { .workload }
    public var conversionWebhook: ConversionWebhook? { nil }

    public var tableColumns: [TableColumn] {
        [TableColumn("Name", format: "name", description: "Name of the object"), TableColumn("Age", description: "Time since creation")]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .string(TableFormat.age(of: object, now: now))]
    }

    public func convert(_ object: JSONValue, toVersion version: String) throws -> JSONValue {
        var o = object
        o["apiVersion"] = .string(definition.apiVersion(version))
        return o
    }

    public func convertToStorage(_ object: JSONValue, fromVersion version: String) throws -> JSONValue {
        var o = object
        o["apiVersion"] = .string(definition.apiVersion(definition.storageVersion))
        return o
    }
}
