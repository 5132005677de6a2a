import Foundation

/// Host-side pieces of the service proxy: table names, `nft` runs, bridged traffic.
public enum ProxyHost {
    static let tablePrefix = "caravel-proxy-"

    /// The proxy table of the kubelet with this root directory: one per server on a host, so
    /// two servers never touch each other's rules (`caravel killall` finds it the same way).
    public static func tableName(rootDirectory: String) -> String {
        tablePrefix + PodNetworkHost.hexHash(standardized(rootDirectory), 8)
    }

    static func standardized(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (absolute as NSString).standardizingPath
    }

    /// Runs an nft script from a file (one transaction); nil on success, else what nft said.
    static func apply(script: String, file: String, nft: String) async -> String? {
        do {
            try Data(script.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            let result = try await PodNetworkCommand.run(nft, ["-f", file])
            return result.status == 0 ? nil : result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            return "\(error)"
        }
    }

    public enum Deletion: Sendable, Equatable {
        case deleted, absent
        case failed(String)
    }

    /// Deletes an `ip` table if it exists (without nft there is none).
    public static func deleteTable(_ name: String) async -> Deletion {
        guard let nft = PodNetworkCommand.find("nft") else { return .absent }
        do {
            let list = try await PodNetworkCommand.run(nft, ["list", "tables", "ip"])
            guard list.status == 0 else { return .failed(list.stderr.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard list.stdout.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "table ip \(name)" }) else {
                return .absent
            }
            let result = try await PodNetworkCommand.run(nft, ["delete", "table", "ip", name])
            return result.status == 0 ? .deleted : .failed(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            return .failed("\(error)")
        }
    }

    /// Makes bridged IPv4 go through the ip hooks (br_netfilter), so a backend's reply to a pod
    /// on the same bridge is un-DNATed; false when that cannot be had.
    static func enableBridgeNetfilter() async -> Bool {
        let sysctl = "/proc/sys/net/bridge/bridge-nf-call-iptables"
        if !FileManager.default.fileExists(atPath: sysctl), let modprobe = PodNetworkCommand.find("modprobe") {
            _ = try? await PodNetworkCommand.run(modprobe, ["br_netfilter"])
        }
        guard let handle = FileHandle(forWritingAtPath: sysctl) else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("1".utf8))) != nil
    }
}
