import Foundation
import KubeModel

/// How much of a request the audit log records. Only metadata levels exist: request and
/// response bodies are never logged, so Secret values cannot reach the audit log.
public enum AuditLevel: String, Sendable, CaseIterable {
    case none = "None"
    case metadata = "Metadata"
}

/// One audit record, shaped as an `audit.k8s.io/v1` Event at level Metadata (no bodies).
public struct AuditEvent: Sendable, Equatable {
    /// The resource a request addressed (absent for non-resource paths such as `/version`).
    public struct ObjectRef: Sendable, Equatable {
        public var resource: String
        public var subresource: String?
        public var namespace: String?
        public var name: String?
        public var apiGroup: String
        public var apiVersion: String

        /// The object reference of a parsed resource path.
        public init(_ info: RequestInfo) {
            resource = info.resource
            subresource = info.subresource
            namespace = info.namespace
            name = info.name
            apiGroup = info.group
            apiVersion = info.version
        }
    }

    public var auditID: String
    /// `ResponseComplete`, or `ResponseStarted` for watches, logged when their stream begins.
    public var stage: String
    public var verb: String
    public var requestURI: String
    /// The authenticated caller.
    public var user: UserInfo
    /// Whom the caller acted as (`Impersonate-User`), when different.
    public var impersonatedUser: UserInfo?
    public var sourceIPs: [String]
    public var userAgent: String?
    public var objectRef: ObjectRef?
    public var code: Int
    public var requestReceived: Date
    public var stageTime: Date

    /// An event; `auditID` defaults to a fresh UUID.
    public init(auditID: String = UUID().uuidString.lowercased(), stage: String = "ResponseComplete", verb: String,
                requestURI: String, user: UserInfo, impersonatedUser: UserInfo? = nil, sourceIPs: [String] = [],
                userAgent: String? = nil, objectRef: ObjectRef? = nil, code: Int, requestReceived: Date, stageTime: Date) {
        self.auditID = auditID
        self.stage = stage
        self.verb = verb
        self.requestURI = requestURI
        self.user = user
        self.impersonatedUser = impersonatedUser
        self.sourceIPs = sourceIPs
        self.userAgent = userAgent
        self.objectRef = objectRef
        self.code = code
        self.requestReceived = requestReceived
        self.stageTime = stageTime
    }

    /// The event as kube's JSON, plus `latency`: the request's time at a glance.
    public func json(level: AuditLevel = .metadata) -> JSONValue {
        var e: JSONValue = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": .string(level.rawValue),
            "auditID": .string(auditID), "stage": .string(stage), "requestURI": .string(requestURI),
            "verb": .string(verb), "user": Self.user(user), "sourceIPs": .array(sourceIPs.map(JSONValue.string)),
            "responseStatus": ["metadata": [:], "code": .int(Int64(code))],
            "requestReceivedTimestamp": .string(Self.timestamp(requestReceived)),
            "stageTimestamp": .string(Self.timestamp(stageTime)),
            "latency": .string(Self.duration(stageTime.timeIntervalSince(requestReceived))),
        ]
        if let impersonatedUser { e["impersonatedUser"] = Self.user(impersonatedUser) }
        if let userAgent { e["userAgent"] = .string(userAgent) }
        if let ref = objectRef {
            var o: JSONValue = ["resource": .string(ref.resource), "apiVersion": .string(ref.apiVersion)]
            if !ref.apiGroup.isEmpty { o["apiGroup"] = .string(ref.apiGroup) }
            if let s = ref.subresource { o["subresource"] = .string(s) }
            if let s = ref.namespace { o["namespace"] = .string(s) }
            if let s = ref.name { o["name"] = .string(s) }
            e["objectRef"] = o
        }
        return e
    }

    /// One JSON line, newline-terminated.
    public func line(level: AuditLevel = .metadata) -> [UInt8] {
        var bytes = JSONWriter.bytes(json(level: level))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static func user(_ u: UserInfo) -> JSONValue {
        var j: JSONValue = ["username": .string(u.name), "groups": .array(u.groups.map(JSONValue.string))]
        if !u.uid.isEmpty { j["uid"] = .string(u.uid) }
        return j
    }

    /// RFC 3339 with microseconds, as kube's MicroTime.
    static func timestamp(_ d: Date) -> String { Timestamp.formatMicro(d) }

    /// The latency with its unit: `500µs`, `4.200ms`, `1.500s`.
    static func duration(_ seconds: TimeInterval) -> String {
        let s = max(0, seconds)
        if s < 0.001 { return "\(Int((s * 1_000_000).rounded()))µs" }
        // Rounded to three decimals without Foundation's formatter (it would run once per request).
        let (scaled, unit) = s < 1 ? (s * 1000, "ms") : (s, "s")
        let thousandths = Int((scaled * 1000).rounded())
        let fraction = thousandths % 1000
        return "\(thousandths / 1000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + "\(fraction)" + unit
    }
}
