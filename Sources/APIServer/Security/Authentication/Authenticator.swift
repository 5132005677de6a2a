import Foundation
import KubeClient
import KubeModel

/// Who made a request, as Kubernetes' `user.Info`.
public struct UserInfo: Sendable, Equatable {
    /// The user name (a certificate's CN, or the token file's user column).
    public var name: String
    /// A stable id; empty for certificate users.
    public var uid: String
    /// Group memberships (a certificate's O values, or the token file's groups column).
    public var groups: [String]

    /// A user with the given name, uid and groups.
    public init(name: String, uid: String = "", groups: [String] = []) {
        self.name = name
        self.uid = uid
        self.groups = groups
    }
}

/// Authenticates requests from x509 client certificates (validated against the cluster CA
/// during the TLS handshake) and from bearer tokens of a static token file, as
/// kube-apiserver's `--client-ca-file` and `--token-auth-file`. Every authenticated user also
/// belongs to `system:authenticated`.
public struct Authenticator: Sendable {
    /// Bearer token -> user, from the token file.
    let tokens: [String: UserInfo]
    /// Without TLS there are no client certificates: plain-HTTP debugging mode lets anonymous
    /// requests through as an admin rather than locking everyone out.
    let allowAnonymousAsAdmin: Bool
    /// Further bearer-token checkers (ServiceAccount JWTs, bootstrap join tokens), asked in
    /// order after the static file.
    let tokenAuthenticators: [any TokenAuthenticator]
    /// An authenticator over the given tokens.
    public init(tokens: [String: UserInfo], allowAnonymousAsAdmin: Bool = false, tokenAuthenticators: [any TokenAuthenticator] = []) {
        self.tokens = tokens
        self.allowAnonymousAsAdmin = allowAnonymousAsAdmin
        self.tokenAuthenticators = tokenAuthenticators
    }

    /// Paths that answer without credentials, as kube's `system:public-info-viewer`.
    static let publicPaths: Set<String> = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

    /// Whether `path` may be served without authentication.
    public static func isPublic(_ path: String) -> Bool {
        publicPaths.contains(path) || path.hasPrefix("/healthz/") || path.hasPrefix("/livez/") || path.hasPrefix("/readyz/")
    }

    /// The user behind a request, or `nil` when it carries no valid credentials. As
    /// kube-apiserver's union authenticator, a valid client certificate wins over the token:
    /// its CN is the user and each O a group.
    public func authenticate(authorization: String?, certificateSubject: @Sendable () async -> CertificateSubject?) async -> UserInfo? {
        if let subject = await certificateSubject() {
            return Self.withAuthenticatedGroup(UserInfo(name: subject.name, groups: subject.groups))
        }
        if let authorization, let token = Self.bearerToken(authorization) {
            if let user = tokens[token] { return Self.withAuthenticatedGroup(user) }
            for t in tokenAuthenticators {
                if let user = await t.authenticate(token: token) { return Self.withAuthenticatedGroup(user) }
            }
        }
        if allowAnonymousAsAdmin {
            return UserInfo(name: "caravel-admin", groups: ["system:masters", "system:authenticated"])
        }
        return nil
    }

    /// The token of an `Authorization: Bearer TOKEN` header.
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Not Foundation's trimming: it converts a long token to UTF-16 and back on every request.
        let token = String(parts[1]).trimmingCharacters(in: " \t")
        return token.isEmpty ? nil : token
    }

    static func withAuthenticatedGroup(_ user: UserInfo) -> UserInfo {
        var u = user
        if !u.groups.contains("system:authenticated") { u.groups.append("system:authenticated") }
        return u
    }
}

/// A kind of bearer token the server accepts besides the static token file.
public protocol TokenAuthenticator: Sendable {
    /// The user the token stands for; nil when it is not this kind's, invalid or expired.
    func authenticate(token: String) async -> UserInfo?
    /// The same, with the moment the token itself stops being valid (a JWT's `exp`), so that
    /// a cache never keeps an answer past it. Kinds without one answer nil there.
    func authenticateWithExpiry(token: String) async -> (user: UserInfo, expires: Date?)?
}

extension TokenAuthenticator {
    public func authenticateWithExpiry(token: String) async -> (user: UserInfo, expires: Date?)? {
        await authenticate(token: token).map { ($0, nil) }
    }
}

/// The static token file (`token,user,uid,"group1,group2"` per line, as `--token-auth-file`).
public enum TokenFile {
    /// Reads the file at `path`, creating it empty (0600) when missing.
    public static func loadOrCreate(path: String) throws -> [String: UserInfo] {
        if !FileManager.default.fileExists(atPath: path) {
            try SecureFile.writeAtomically(path, "", mode: 0o600)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw PKIError("cannot read token file \(path)") }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses token file text; blank lines and lines starting with `#` are skipped.
    public static func parse(_ text: String, file: String = "tokens.csv") throws -> [String: UserInfo] {
        var tokens: [String: UserInfo] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = csvFields(line)
            guard fields.count >= 3, !fields[0].isEmpty, !fields[1].isEmpty else {
                throw PKIError("\(file):\(index + 1): want token,user,uid[,\"groups\"]")
            }
            let groups = fields.count > 3
                ? fields[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                : []
            tokens[fields[0]] = UserInfo(name: fields[1], uid: fields[2], groups: groups)
        }
        return tokens
    }

    /// One CSV line's fields; double quotes group commas, `""` inside quotes is a quote.
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    let next = chars.next()
                    if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current.trimmingCharacters(in: .whitespaces))
        return fields
    }
}

extension APIError {
    /// kube-apiserver's answer to a request without valid credentials.
    static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")
}
