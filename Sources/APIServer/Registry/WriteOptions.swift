import KubeModel

/// How unknown fields in a request body are treated (`fieldValidation` query parameter).
public enum FieldValidation: String, Sendable {
    case ignore = "Ignore", warn = "Warn", strict = "Strict"
}

/// Options every write carries.
public struct WriteOptions: Sendable {
    public var dryRun = false
    public var fieldValidation: FieldValidation = .warn
    public var fieldManager: String?
    /// Who writes, for admission plugins; nil for the server's own writes.
    public var user: UserInfo?

    public init(dryRun: Bool = false, fieldValidation: FieldValidation = .warn, fieldManager: String? = nil, user: UserInfo? = nil) {
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
        self.fieldManager = fieldManager
        self.user = user
    }
}

/// The result of a write: the object as served, the HTTP status, and any warnings.
public struct WriteResult: Sendable {
    public var object: JSONValue
    public var code: Int
    public var warnings: [String]
    /// `object` as the store wrote it, when that is also what the client asked for (its
    /// version is the storage version): the answer is sent from these bytes.
    public var serialized: [UInt8]? = nil
}

/// Delete options from the query or a `DeleteOptions` body.
public struct DeleteOptions: Sendable {
    public enum Propagation: String, Sendable { case orphan = "Orphan", background = "Background", foreground = "Foreground" }
    public var propagation: Propagation?
    public var gracePeriodSeconds: Int64?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public var dryRun = false
    /// The authenticated caller, handed to admission.
    public var user: UserInfo?

    public init() {}
}
