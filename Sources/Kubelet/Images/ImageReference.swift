import Foundation

/// An image reference as a container runtime reads it: `[registry/]repository[:tag][@digest]`.
/// The first component is a registry when it has a `.` or `:` or is `localhost`; otherwise
/// the image is on Docker Hub (`docker.io`, one-component names under `library/`). With neither
/// tag nor digest the tag is `latest`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: String?

    public static let dockerHub = "docker.io"

    public init(registry: String, repository: String, tag: String?, digest: String?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ParseError(message: "empty image reference") }
        var rest = Substring(trimmed)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            guard Self.isValidDigest(value) else { throw ParseError(message: "invalid digest \"\(value)\" in \"\(text)\"") }
            digest = value
            rest = rest[..<at]
        }
        var tag: String?
        // A colon after the last slash separates the tag (one before it is a registry port).
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let value = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(value) else { throw ParseError(message: "invalid tag \"\(value)\" in \"\(text)\"") }
            tag = value
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var registry = Self.dockerHub
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" {
            registry = first
            components.removeFirst()
        }
        if registry == "index.docker.io" { registry = Self.dockerHub }
        if registry == Self.dockerHub && components.count == 1 { components.insert("library", at: 0) }
        for component in components where !Self.isValidPathComponent(component) {
            throw ParseError(message: "invalid reference format: repository name must be lowercase in \"\(text)\"")
        }
        if tag == nil && digest == nil { tag = "latest" }
        self.init(registry: registry, repository: components.joined(separator: "/"), tag: tag, digest: digest)
    }

    /// The tag or digest to ask the registry for (the digest wins).
    public var reference: String { digest ?? tag ?? "latest" }

    /// `registry/repository:tag` (or `@digest`), fully qualified.
    public var description: String {
        var text = "\(registry)/\(repository)"
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// The name without tag or digest, as the node's `status.images` lists it.
    public var name: String { "\(registry)/\(repository)" }

    /// Kubernetes' default pull policy: `Always` for `:latest` or no tag (and no digest),
    /// else `IfNotPresent`.
    public static func defaultPullPolicy(for image: String) -> String {
        guard let reference = try? ImageReference(parsing: image) else { return "IfNotPresent" }
        return reference.digest == nil && reference.tag == "latest" ? "Always" : "IfNotPresent"
    }

    static func isValidDigest(_ value: String) -> Bool {
        let parts = value.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "sha256", parts[1].count == 64 else { return false }
        return parts[1].allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func isValidTag(_ value: String) -> Bool {
        guard !value.isEmpty, value.count <= 128, let first = value.first, first != "." && first != "-" else { return false }
        return value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    static func isValidPathComponent(_ value: String) -> Bool {
        guard let first = value.first, let last = value.last, first.isASCII, last.isASCII,
              first.isLowercase || first.isNumber, last.isLowercase || last.isNumber else { return false }
        return value.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }
}
