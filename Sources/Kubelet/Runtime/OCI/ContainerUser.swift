import Foundation

/// The uid and gid a container runs as: `runAsUser`/`runAsGroup` over the image's `User`
/// (`uid`, `uid:gid`, `name` or `name:group`, names looked up in the image's /etc/passwd and
/// /etc/group). Root when neither says.
struct ContainerUser: Sendable, Equatable {
    var uid: UInt32
    var gid: UInt32

    struct UnknownUser: Error, CustomStringConvertible {
        var description: String
    }

    static func resolve(security: ContainerSecurity, imageUser: String?, rootfs: String) throws -> ContainerUser {
        var uid: UInt32 = 0, gid: UInt32? = nil
        if let spec = imageUser, !spec.isEmpty {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            let passwd = entries(rootfs + "/etc/passwd")
            if let numeric = UInt32(parts[0]) {
                uid = numeric
                gid = passwd.first { UInt32($0[2]) == numeric }.flatMap { UInt32($0[3]) }
            } else if let entry = passwd.first(where: { $0[0] == parts[0] }), let u = UInt32(entry[2]) {
                uid = u
                gid = UInt32(entry[3])
            } else {
                throw UnknownUser(description: "unable to find user \(parts[0]): no matching entries in passwd file")
            }
            if parts.count == 2 {
                if let numeric = UInt32(parts[1]) {
                    gid = numeric
                } else if let entry = entries(rootfs + "/etc/group").first(where: { $0[0] == parts[1] }), let g = UInt32(entry[2]) {
                    gid = g
                } else {
                    throw UnknownUser(description: "unable to find group \(parts[1]): no matching entries in group file")
                }
            }
        }
        if let runAsUser = security.runAsUser, let value = UInt32(exactly: runAsUser) {
            uid = value
            if security.runAsGroup == nil && imageUser?.contains(":") != true { gid = nil }
        }
        if let runAsGroup = security.runAsGroup, let value = UInt32(exactly: runAsGroup) { gid = value }
        return ContainerUser(uid: uid, gid: gid ?? 0)
    }

    /// `name:x:uid:gid:...` lines with at least four fields.
    static func entries(_ path: String) -> [[String]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count >= 4 }
    }
}
