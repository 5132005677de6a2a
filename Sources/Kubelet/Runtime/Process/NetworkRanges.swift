import Foundation

/// The two address ranges a server owns on its host: pods' (`--cluster-cidr`, cut into
/// nodes' /24s) and Services' (`--service-cluster-ip-range`, captured by the proxy). Two
/// servers on one host must not share either: their bridges would route the same addresses
/// and their proxies would reject each other's Services.
public struct NetworkRanges: Codable, Sendable, Equatable {
    public var clusterCIDR: String
    public var serviceCIDR: String

    public static let defaultClusterCIDR = "10.244.0.0/16"
    public static let defaultServiceCIDR = "10.96.0.0/12"

    public init(clusterCIDR: String, serviceCIDR: String) {
        self.clusterCIDR = clusterCIDR
        self.serviceCIDR = serviceCIDR
    }

    /// Tried in order when a range is not given: the defaults, then other /16s of 10/8.
    static let clusterCandidates = [defaultClusterCIDR] + (Array(245...255) + Array(128...243)).map { "10.\($0).0.0/16" }
    static let serviceCandidates = [defaultServiceCIDR] + (64...95).map { "10.\($0).0.0/16" }

    /// Picks the first candidates overlapping nothing in `taken`; a given range is kept as is.
    static func choose(clusterCIDR: String?, serviceCIDR: String?, taken: [IPv4CIDR]) -> NetworkRanges? {
        func pick(_ given: String?, _ candidates: [String], _ taken: [IPv4CIDR]) -> String? {
            if let given { return given }
            return candidates.first { text in
                guard let cidr = IPv4CIDR(text) else { return false }
                return !taken.contains { $0.overlaps(cidr) }
            }
        }
        guard let cluster = pick(clusterCIDR, clusterCandidates, taken) else { return nil }
        var busy = taken
        if let chosen = IPv4CIDR(cluster) { busy.append(chosen) }
        guard let service = pick(serviceCIDR, serviceCandidates, busy) else { return nil }
        return NetworkRanges(clusterCIDR: cluster, serviceCIDR: service)
    }
}

extension IPv4CIDR {
    public func overlaps(_ other: IPv4CIDR) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        let mask = IPv4CIDR.mask(shorter)
        return network & mask == other.network & mask
    }
}

/// Chooses and remembers a server's ranges. The choice is kept in `DIR/network-ranges.json`, so
/// a restart keeps its pods' addresses; the first start looks at what the host routes (other
/// than Caravel bridges) and at what other servers on the host registered under
/// `/run/caravel/networks/` (under a lock, so two servers starting together choose apart). A
/// registration counts while its data directory still holds the same choice and the server
/// runs or its pods still hold addresses (pod sandboxes under `DIR/kubelet`): data
/// directories of finished test runs must not use the host's ranges up.
public enum NetworkRangeRegistry {
    public static let registryDirectory = "/run/caravel/networks"

    public static func rangesFile(dataDirectory: String) -> String {
        (dataDirectory as NSString).appendingPathComponent("network-ranges.json")
    }

    /// The server's ranges: given flags win (and are remembered), else the remembered ones,
    /// else a free choice. Throws when nothing is free.
    public static func resolve(dataDirectory: String, clusterCIDR: String?, serviceCIDR: String?) throws -> NetworkRanges {
        let file = rangesFile(dataDirectory: dataDirectory)
        let saved = read(file)
        let isRoot = getuid() == 0
        var lockFD: Int32 = -1
        if isRoot, (try? FileManager.default.createDirectory(atPath: registryDirectory, withIntermediateDirectories: true)) != nil {
            lockFD = open(registryDirectory + "/.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            if lockFD >= 0 { flock(lockFD, LOCK_EX) }
        }
        defer { if lockFD >= 0 { flock(lockFD, LOCK_UN); close(lockFD) } }

        let me = ProxyHost.standardized(dataDirectory)
        var ranges: NetworkRanges
        if let saved, clusterCIDR == nil || clusterCIDR == saved.clusterCIDR, serviceCIDR == nil || serviceCIDR == saved.serviceCIDR {
            ranges = saved
        } else {
            var taken = hostRoutes()
            for entry in registered() where entry.dataDirectory != me {
                taken += [IPv4CIDR(entry.ranges.clusterCIDR), IPv4CIDR(entry.ranges.serviceCIDR)].compactMap { $0 }
            }
            guard let chosen = NetworkRanges.choose(clusterCIDR: clusterCIDR ?? saved?.clusterCIDR,
                                                    serviceCIDR: serviceCIDR ?? saved?.serviceCIDR, taken: taken) else {
                throw NetworkRangesError("no free 10.x.0.0/16 left on this host for the pod or service network: give --cluster-cidr and --service-cluster-ip-range")
            }
            ranges = chosen
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            try JSONEncoder().encode(ranges).write(to: URL(fileURLWithPath: file), options: .atomic)
        }
        if lockFD >= 0 {
            let pid = getpid()
            let entry = Registration(dataDirectory: me, ranges: ranges, pid: pid, started: processStart(pid))
            let path = registryDirectory + "/" + PodNetworkHost.hexHash(me, 16) + ".json"
            try? JSONEncoder().encode(entry).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return ranges
    }

    struct Registration: Codable {
        var dataDirectory: String
        var ranges: NetworkRanges
        var pid: Int32?
        /// The process's start time (`/proc/PID/stat`), so a reused PID is not taken for it.
        var started: String?

        var isLive: Bool {
            guard NetworkRangeRegistry.read(NetworkRangeRegistry.rangesFile(dataDirectory: dataDirectory)) == ranges else { return false }
            if let pid, let started, NetworkRangeRegistry.processStart(pid) == started { return true }
            let pods = (dataDirectory as NSString).appendingPathComponent("kubelet/pods")
            let uids = (try? FileManager.default.contentsOfDirectory(atPath: pods)) ?? []
            return uids.contains { FileManager.default.fileExists(atPath: pods + "/" + $0 + "/sandbox.json") }
        }
    }

    static func processStart(_ pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name; the start time is field 22 of the line, 20 of these.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// Live registrations; stale ones (data directory gone or choosing otherwise) are removed.
    static func registered() -> [Registration] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: registryDirectory)) ?? []
        var out: [Registration] = []
        for name in names where name.hasSuffix(".json") {
            let path = registryDirectory + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let entry = try? JSONDecoder().decode(Registration.self, from: data), entry.isLive else {
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            out.append(entry)
        }
        return out
    }

    static func read(_ file: String) -> NetworkRanges? {
        FileManager.default.contents(atPath: file).flatMap { try? JSONDecoder().decode(NetworkRanges.self, from: $0) }
    }

    /// Destinations the host routes (from /proc/net/route), except the default route and the
    /// routes of Caravel bridges without members (a stale bridge loses its address to the next
    /// server that needs it; one with pods attached is in use, registered or not).
    static func hostRoutes() -> [IPv4CIDR] {
        guard let text = try? String(contentsOfFile: "/proc/net/route", encoding: .utf8) else { return [] }
        var out: [IPv4CIDR] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, !fields[0].hasPrefix(PodNetworkHost.bridgePrefix) || hasMembers(bridge: String(fields[0])),
                  let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16), mask != 0 else { continue }
            // The file prints the kernel's network-order words as host-order hex.
            let network = UInt32(bigEndian: destination)
            let prefix = mask.nonzeroBitCount
            if let cidr = IPv4CIDR(IPv4CIDR.format(network) + "/\(prefix)") { out.append(cidr) }
        }
        return out
    }
}

extension NetworkRangeRegistry {
    static func hasMembers(bridge: String) -> Bool {
        let ports = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net/\(bridge)/brif")) ?? []
        return !ports.isEmpty
    }
}

public struct NetworkRangesError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
