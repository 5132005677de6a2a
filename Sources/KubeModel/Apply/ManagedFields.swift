/// One `metadata.managedFields` entry: which fields a manager owns through one kind of write.
public struct ManagedFieldsEntry: Sendable, Hashable {
    /// How the manager wrote: server-side apply, or any other write.
    public enum Operation: String, Sendable { case apply = "Apply", update = "Update" }

    public var manager: String
    public var operation: Operation
    public var apiVersion: String
    /// RFC 3339 time of the manager's last change to its fields.
    public var time: String?
    public var fields: FieldSet
    /// `status`, `scale`, ... for writes through a subresource; nil for the object itself.
    public var subresource: String?

    public init(manager: String, operation: Operation, apiVersion: String, time: String?, fields: FieldSet, subresource: String? = nil) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.fields = fields
        self.subresource = subresource
    }

    /// Reads an entry; throws for anything kube-apiserver would not decode.
    public init(json: JSONValue) throws(FieldsV1Error) {
        guard json.objectValue != nil else { throw FieldsV1Error(message: "managedFields entry must be an object") }
        guard let op = json["operation"]?.stringValue.flatMap(Operation.init(rawValue:)) else {
            throw FieldsV1Error(message: "managedFields entry has an invalid operation")
        }
        if let t = json["fieldsType"]?.stringValue, t != "FieldsV1" {
            throw FieldsV1Error(message: "managedFields entry has unsupported fieldsType \(t)")
        }
        self.init(manager: json["manager"]?.stringValue ?? "", operation: op, apiVersion: json["apiVersion"]?.stringValue ?? "",
                  time: json["time"]?.stringValue, fields: try FieldSet(fieldsV1: json["fieldsV1"] ?? .object([:])),
                  subresource: json["subresource"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The JSON form stored in `metadata.managedFields`.
    public var json: JSONValue {
        var o: JSONValue = ["manager": .string(manager), "operation": .string(operation.rawValue),
                            "apiVersion": .string(apiVersion), "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1]
        if let time { o["time"] = .string(time) }
        if let subresource { o["subresource"] = .string(subresource) }
        return o
    }

    /// Whether this entry is the one a write by (manager, operation, subresource) updates.
    public func isSlot(manager m: String, operation op: Operation, subresource sub: String?) -> Bool {
        manager == m && operation == op && subresource == sub
    }
}

/// The `metadata.managedFields` list of an object.
public struct ManagedFields: Sendable, Hashable {
    public var entries: [ManagedFieldsEntry]

    public init(entries: [ManagedFieldsEntry] = []) { self.entries = entries }

    /// Reads `metadata.managedFields` (absent: no entries).
    public init(json: JSONValue?) throws(FieldsV1Error) {
        guard let json, !json.isNull else { self.init(); return }
        guard let list = json.arrayValue else { throw FieldsV1Error(message: "managedFields must be a list") }
        var out: [ManagedFieldsEntry] = []
        for e in list { out.append(try ManagedFieldsEntry(json: e)) }
        self.init(entries: out)
    }

    /// Reads the managed fields of an object, or none when they do not decode.
    public static func of(_ object: JSONValue) -> ManagedFields {
        (try? ManagedFields(json: object[path: ["metadata", "managedFields"]])) ?? ManagedFields()
    }

    /// `[{}]` (one empty entry) asks the server to drop all managed fields.
    public static func isReset(_ json: JSONValue?) -> Bool {
        guard let list = json?.arrayValue, list.count == 1 else { return false }
        return list[0].objectValue?.isEmpty == true
    }

    /// The list as stored, sorted as kube-apiserver sorts it (Apply before Update, then by
    /// time and manager).
    public var json: JSONValue {
        let sorted = entries.sorted { p, q in
            if p.operation != q.operation { return p.operation.rawValue < q.operation.rawValue }
            if (p.time ?? "") != (q.time ?? "") { return (p.time ?? "") < (q.time ?? "") }
            if p.manager != q.manager { return p.manager < q.manager }
            return (p.subresource ?? "") < (q.subresource ?? "")
        }
        return .array(sorted.map(\.json))
    }

    /// Writes the list into `object`'s metadata (removing the field when empty).
    public func store(in object: inout JSONValue) {
        if entries.isEmpty {
            object[path: ["metadata", "managedFields"]] = Optional<JSONValue>.none
        } else {
            object[path: ["metadata", "managedFields"]] = json
        }
    }

    /// The fields owned by the entry for (manager, operation, subresource).
    public func fields(manager: String, operation: ManagedFieldsEntry.Operation, subresource: String?) -> FieldSet {
        entries.first { $0.isSlot(manager: manager, operation: operation, subresource: subresource) }?.fields ?? FieldSet()
    }

    /// Sets the fields of the entry for (manager, operation, subresource), creating it when
    /// missing; its time and apiVersion change only when its fields do, so a write that
    /// changes nothing leaves the list (and the object) as it was.
    public mutating func set(manager: String, operation: ManagedFieldsEntry.Operation, subresource: String?,
                             fields: FieldSet, apiVersion: String, time: String) {
        if let i = entries.firstIndex(where: { $0.isSlot(manager: manager, operation: operation, subresource: subresource) }) {
            if entries[i].fields != fields || entries[i].apiVersion != apiVersion {
                entries[i].fields = fields
                entries[i].apiVersion = apiVersion
                entries[i].time = time
            }
        } else {
            entries.append(ManagedFieldsEntry(manager: manager, operation: operation, apiVersion: apiVersion, time: time,
                                              fields: fields, subresource: subresource))
        }
        dropEmpty()
    }

    /// Takes `fields` away from every entry but the one for (manager, operation, subresource).
    public mutating func remove(_ fields: FieldSet, exceptManager manager: String? = nil,
                                operation: ManagedFieldsEntry.Operation? = nil, subresource: String? = nil) {
        if fields.isEmpty { return }
        for i in entries.indices {
            if let manager, let operation, entries[i].isSlot(manager: manager, operation: operation, subresource: subresource) { continue }
            entries[i].fields = entries[i].fields.subtracting(fields)
        }
        dropEmpty()
    }

    /// Entries owning nothing are dropped, as kube does.
    public mutating func dropEmpty() {
        entries.removeAll { $0.fields.isEmpty }
    }
}
