import Foundation

/// The node's nft table: applying a compiled script with one `nft -f` (one transaction) and
/// removing the table. The script last applied is kept as `ROOT/network-policy.nft`, which
/// also tells `caravel killall` which table is this kubelet's.
struct NetworkPolicyTable: Sendable {
    let nft: String
    let paths: KubeletPaths

    /// `caravel-policy-` and the node's bridge name: unique per node on a shared machine.
    static func name(rootDirectory: String, nodeName: String) -> String {
        "caravel-policy-" + PodNetworkHost.bridgeName(rootDirectory: rootDirectory, nodeName: nodeName)
    }

    static func scriptPath(_ paths: KubeletPaths) -> String { paths.root + "/network-policy.nft" }

    func apply(_ script: String) async throws {
        let path = Self.scriptPath(paths)
        try Data(script.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        let result = try await PodNetworkCommand.run(nft, ["-f", path], timeout: .seconds(30))
        guard result.status == 0 else {
            throw PodNetworkError(command: "nft -f \(path)", status: result.status, stderr: result.stderr)
        }
    }

    /// Deletes the table named in `ROOT/network-policy.nft` (only that one: other tables belong
    /// to someone else). Answers the table removed, nil when there was none.
    static func removeRecorded(paths: KubeletPaths) async throws -> String? {
        let path = scriptPath(paths)
        guard let script = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        // The script's first line is `add table inet NAME`.
        guard let first = script.split(separator: "\n").first, first.hasPrefix("add table inet caravel-policy-"),
              let table = first.split(separator: " ").last.map(String.init) else { return nil }
        guard let nft = PodNetworkCommand.find("nft") else {
            throw PodNetworkError(command: "nft", status: nil, stderr: "nft is not installed; table \(table) may remain")
        }
        let removal = path + ".remove"
        try Data(PolicyRulesetRenderer.removal(table: table).utf8).write(to: URL(fileURLWithPath: removal), options: .atomic)
        defer { try? FileManager.default.removeItem(atPath: removal) }
        let result = try await PodNetworkCommand.run(nft, ["-f", removal])
        guard result.status == 0 else { throw PodNetworkError(command: "nft -f \(removal)", status: result.status, stderr: result.stderr) }
        try? FileManager.default.removeItem(atPath: path)
        return table
    }
}
