import Foundation

/// A registry's `WWW-Authenticate` challenge (distribution's token flow): `Bearer realm=...,
/// service=...,scope=...` or `Basic realm=...`.
public struct AuthChallenge: Sendable, Equatable {
    public var scheme: String
    public var parameters: [String: String]

    public init?(header: String) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            guard !trimmed.isEmpty else { return nil }
            scheme = trimmed.lowercased()
            parameters = [:]
            return
        }
        scheme = trimmed[..<space].lowercased()
        parameters = Self.parameters(String(trimmed[trimmed.index(after: space)...]))
    }

    /// `key="value", key2=value2` (quoted values may hold commas).
    static func parameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let c = rest.first, c != "\"" {
                    if c == "\\", let next = rest.dropFirst().first {
                        value.append(next)
                        rest = rest.dropFirst(2)
                        continue
                    }
                    value.append(c)
                    rest = rest.dropFirst()
                }
                rest = rest.dropFirst()
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[key] = value
        }
        return result
    }

    /// The token service URL for a bearer challenge, with `service` and the scope asked for.
    public func tokenURL(scope: String) -> String? {
        guard scheme == "bearer", let realm = parameters["realm"], var components = URLComponents(string: realm) else { return nil }
        var items = components.queryItems ?? []
        if let service = parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
        items.append(URLQueryItem(name: "scope", value: parameters["scope"] ?? scope))
        components.queryItems = items
        return components.string
    }

    /// The token in a token service's answer (`token`, or OAuth2's `access_token`).
    public static func token(fromResponse data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (object["token"] as? String) ?? (object["access_token"] as? String)
    }
}
