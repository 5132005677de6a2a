import Foundation
import KubeModel

/// List and watch parameters, parsed and checked once per request.
public struct ListOptions: Sendable {
    public var labelSelector: LabelSelector?
    public var fieldSelector: FieldSelector?
    public var limit: Int?
    public var continueToken: ContinueToken?
    public var resourceVersion: String?
    public var resourceVersionMatch: String?
    public var allowWatchBookmarks = false
    public var sendInitialEvents: Bool?
    public var timeoutSeconds: Int64?

    public init() {}

    /// Reads the Kubernetes list query parameters.
    public init(query: QueryParameters, strategy: any ResourceStrategy) throws(APIError) {
        if let s = query["labelSelector"], !s.isEmpty {
            do { labelSelector = try LabelSelector.parse(s) } catch { throw APIError.badRequest(error.message) }
        }
        if let s = query["fieldSelector"], !s.isEmpty {
            let parsed: FieldSelector
            do { parsed = try FieldSelector.parse(s) } catch { throw APIError.badRequest("invalid field selector: \(error.message)") }
            for r in parsed.requirements where Self.fieldValue(r.field, of: .object([:]), strategy: strategy) == nil {
                throw APIError.badRequest("field label not supported: \(r.field)")
            }
            fieldSelector = parsed
        }
        func bool(_ key: String) throws(APIError) -> Bool {
            do { return try query.bool(key) } catch { throw APIError(error) }
        }
        func int(_ key: String) throws(APIError) -> Int64? {
            do { return try query.int(key) } catch { throw APIError(error) }
        }
        if let l = try int("limit"), l > 0 { limit = Int(min(l, 100_000)) }
        if let c = query["continue"], !c.isEmpty { continueToken = try ContinueToken.decode(c) }
        resourceVersion = query["resourceVersion"]
        resourceVersionMatch = query["resourceVersionMatch"]
        if let m = resourceVersionMatch, !m.isEmpty, !["Exact", "NotOlderThan"].contains(m) {
            throw APIError.badRequest("resourceVersionMatch: Unsupported value: \"\(m)\": supported values: \"Exact\", \"NotOlderThan\"")
        }
        allowWatchBookmarks = try bool("allowWatchBookmarks")
        if query.has("sendInitialEvents") { sendInitialEvents = try bool("sendInitialEvents") }
        timeoutSeconds = try int("timeoutSeconds")
        if continueToken != nil, let rv = resourceVersion, !rv.isEmpty {
            throw APIError.badRequest("specifying resource version is not allowed when using continue")
        }
    }

    /// A field's value for field selectors; nil when the kind does not support the field.
    static func fieldValue(_ field: String, of object: JSONValue, strategy: any ResourceStrategy) -> String?? {
        switch field {
        case "metadata.name": return .some(object.name ?? "")
        case "metadata.namespace": return strategy.definition.namespaced ? .some(object.namespace ?? "") : nil
        default: return strategy.selectableField(field, of: object)
        }
    }

    /// Whether an object passes both selectors.
    func matches(_ object: JSONValue, strategy: any ResourceStrategy) -> Bool {
        if let ls = labelSelector, !ls.matches(object.labels) { return false }
        if let fs = fieldSelector {
            return fs.matches { field in Self.fieldValue(field, of: object, strategy: strategy).flatMap { $0 } ?? "" }
        }
        return true
    }

    var hasSelectors: Bool { labelSelector != nil || fieldSelector != nil }
}

/// The opaque `continue` token of a paged list: the revision of the first page and the last
/// key returned, base64 JSON as Kubernetes does.
public struct ContinueToken: Sendable {
    public var revision: Int64
    public var startAfter: String

    func encode() -> String {
        let json: JSONValue = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(startAfter)]
        return Data(JSONWriter.bytes(json)).base64EncodedString()
    }

    static func decode(_ s: String) throws(APIError) -> ContinueToken {
        guard let data = Data(base64Encoded: s), let json = try? JSONParser.parse(data),
              let rv = json["rv"]?.intValue, let start = json["start"]?.stringValue, !start.contains("..")
        else { throw APIError.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)") }
        return ContinueToken(revision: rv, startAfter: start)
    }
}
