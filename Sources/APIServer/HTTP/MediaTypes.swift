import KubeModel

/// What a client asked to get back, from its Accept header.
public enum ResponseShape: Sendable, Equatable {
    case object
    case table
    case partialMetadata
}

enum MediaTypes {
    /// The media type of a `Content-Type` value without its parameters: `application/json`
    /// of `application/json; charset=utf-8`. Most clients send the bare type, which is
    /// returned as it is.
    static func withoutParameters(_ contentType: String) -> String {
        guard contentType.utf8.contains(where: { $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
        else { return contentType }
        return String(trimmed(contentType.prefix { $0 != ";" }))
    }

    /// The media type and parameters of one option of an Accept list, each without the
    /// spaces and tabs HTTP allows around them.
    private static func splitParameters(_ option: Substring) -> [Substring] {
        option.split(separator: ";").map(trimmed)
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let c = text.first, c == " " || c == "\t" { text.removeFirst() }
        while let c = text.last, c == " " || c == "\t" { text.removeLast() }
        return text
    }

    /// Whether the first media type of `Accept` this server can serve is `application/yaml`
    /// (without `as=`: tables and metadata stay JSON).
    static func prefersYAML(accept: String?) -> Bool {
        guard let accept, accept != "application/json" else { return false }
        for option in accept.split(separator: ",") {
            let parts = splitParameters(option)
            guard let type = parts.first else { continue }
            if type == "application/yaml" { return !parts.dropFirst().contains { $0.hasPrefix("as=") } }
            if ["application/json", "*/*", "application/*"].contains(type) { return false }
        }
        return false
    }

    /// Reads `Accept` as client-go writes it: a list of media types with `as`, `g`, `v`
    /// parameters. The first one we can serve wins; JSON is the fallback.
    static func shape(accept: String?) throws(APIError) -> ResponseShape {
        // What most clients send, answered without parsing.
        guard let accept, !accept.isEmpty, accept != "application/json" else { return .object }
        var sawServable = false
        for option in accept.split(separator: ",") {
            let parts = splitParameters(option)
            guard let type = parts.first else { continue }
            var params: [String: String] = [:]
            for p in parts.dropFirst() {
                let kv = p.split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 { params[kv[0]] = kv[1] }
            }
            guard type == "application/json" || type == "*/*" || type == "application/*" || type == "application/yaml" else { continue }
            sawServable = true
            switch params["as"] {
            case nil: return .object
            case "Table"? where params["g"] == "meta.k8s.io" && (params["v"] == "v1" || params["v"] == "v1beta1"): return .table
            case let a? where (a == "PartialObjectMetadata" || a == "PartialObjectMetadataList") && params["g"] == "meta.k8s.io":
                return .partialMetadata
            default: continue
            }
        }
        if sawServable { return .object }
        throw APIError(code: 406, reason: "NotAcceptable", message: "only the following media types are accepted: application/json, application/yaml")
    }
}
