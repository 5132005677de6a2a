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
    public init(auditID: String = RandomUUID.string(), stage: String = "ResponseComplete", verb: String,
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

    /// One JSON line, newline-terminated: the event as kube's JSON, in the field order of
    /// kube's audit Event, plus `latency`, the request's time at a glance. Written straight
    /// into bytes: one line goes out for every request, and building a tree of it first and
    /// sorting its keys took some 5% of the server's time under a stream of GETs.
    public func line(level: AuditLevel = .metadata) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        Fields.object(&out) { e in
            e.string("kind", "Event")
            e.string("apiVersion", "audit.k8s.io/v1")
            e.string("level", level.rawValue)
            e.string("auditID", auditID)
            e.string("stage", stage)
            e.string("requestURI", requestURI)
            e.string("verb", verb)
            e.object("user") { Self.write(user, into: &$0) }
            if let impersonatedUser { e.object("impersonatedUser") { Self.write(impersonatedUser, into: &$0) } }
            e.strings("sourceIPs", sourceIPs)
            if let userAgent { e.string("userAgent", userAgent) }
            if let ref = objectRef {
                e.object("objectRef") { o in
                    o.string("resource", ref.resource)
                    if let s = ref.namespace { o.string("namespace", s) }
                    if let s = ref.name { o.string("name", s) }
                    if !ref.apiGroup.isEmpty { o.string("apiGroup", ref.apiGroup) }
                    o.string("apiVersion", ref.apiVersion)
                    if let s = ref.subresource { o.string("subresource", s) }
                }
            }
            e.object("responseStatus") { o in
                o.object("metadata") { _ in }
                o.key("code")
                JSONWriter.writeInt(Int64(code), &o.out)
            }
            e.string("requestReceivedTimestamp", Self.timestamp(requestReceived))
            e.string("stageTimestamp", Self.timestamp(stageTime))
            e.string("latency", Self.duration(stageTime.timeIntervalSince(requestReceived)))
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The members of one JSON object, written in the order they are given.
    struct Fields {
        var out: [UInt8] = []
        private var first = true

        /// Appends `{`, the members `body` writes, and `}` to `out`.
        static func object(_ out: inout [UInt8], _ body: (inout Fields) -> Void) {
            var fields = Fields()
            swap(&fields.out, &out)
            fields.out.append(UInt8(ascii: "{"))
            body(&fields)
            fields.out.append(UInt8(ascii: "}"))
            swap(&fields.out, &out)
        }

        mutating func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.writeString(name, &out)
            out.append(UInt8(ascii: ":"))
        }

        mutating func string(_ name: String, _ value: String) {
            key(name)
            JSONWriter.writeString(value, &out)
        }

        mutating func strings(_ name: String, _ values: [String]) {
            key(name)
            out.append(UInt8(ascii: "["))
            for (i, v) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(v, &out)
            }
            out.append(UInt8(ascii: "]"))
        }

        mutating func object(_ name: String, _ body: (inout Fields) -> Void) {
            key(name)
            Self.object(&out, body)
        }
    }

    static func write(_ u: UserInfo, into o: inout Fields) {
        o.string("username", u.name)
        if !u.uid.isEmpty { o.string("uid", u.uid) }
        o.strings("groups", u.groups)
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
