import Foundation

/// An IPv4 network such as a node's `spec.podCIDR` ("10.244.1.0/24").
public struct IPv4CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address (host bits cleared).
    public let network: UInt32
    public let prefixLength: Int

    /// Parses "a.b.c.d/n". Host bits are cleared, so "10.244.1.7/24" is 10.244.1.0/24.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4CIDR.parseAddress(String(parts[0])),
              parts[1].allSatisfy(\.isASCII), let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        prefixLength = prefix
        network = address & IPv4CIDR.mask(prefix)
    }

    public var mask: UInt32 { IPv4CIDR.mask(prefixLength) }
    public var broadcast: UInt32 { network | ~mask }
    /// The bridge's address: the first one after the network address (.1 in a /24).
    public var gateway: UInt32 { network &+ 1 }

    public func contains(_ address: UInt32) -> Bool { address & mask == network }

    public var description: String { "\(IPv4CIDR.format(network))/\(prefixLength)" }

    static func mask(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
    }

    /// Dotted quad to a host-order integer; nil unless exactly four decimal octets 0...255.
    public static func parseAddress(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let byte = UInt32(octet), byte <= 255 else { return nil }
            value = value << 8 | byte
        }
        return value
    }

    public static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
    }
}

public enum IPAMError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidCIDR(String)
    /// Every assignable address of the range is reserved.
    case exhausted(String)
    /// The address is outside the range or reserved for another pod.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidCIDR(let text): "invalid pod CIDR \"\(text)\": want an IPv4 range such as 10.244.1.0/24 with room for pods"
        case .exhausted(let cidr): "no free pod IP left in \(cidr)"
        case .unavailable(let ip): "pod IP \(ip) is outside the pod CIDR or already reserved"
        }
    }
}

/// Hands out pod addresses from one node's pod CIDR, like host-local IPAM: skips the network
/// address, the gateway and the broadcast address, and goes round-robin from the last address
/// handed out so a just-freed IP is not reused at once (stale ARP and conntrack entries on
/// peers would send a new pod the old pod's traffic). Persistence is the caller's: it replays
/// reservations with `reserve` after a restart.
public struct IPAM: Sendable {
    public let cidr: IPv4CIDR
    /// address → pod UID
    private var owners: [UInt32: String] = [:]
    private var byPod: [String: UInt32] = [:]
    private var last: UInt32

    public init(cidr: IPv4CIDR) throws {
        // /31 and /32 leave no address besides gateway and broadcast.
        guard cidr.prefixLength <= 30 else { throw IPAMError.invalidCIDR(cidr.description) }
        self.cidr = cidr
        last = cidr.gateway
    }

    public var firstAssignable: UInt32 { cidr.gateway &+ 1 }
    public var lastAssignable: UInt32 { cidr.broadcast &- 1 }
    public var capacity: Int { Int(lastAssignable) - Int(firstAssignable) + 1 }
    public var reservedCount: Int { owners.count }

    public func address(of podUID: String) -> UInt32? { byPod[podUID] }
    public func owner(of address: UInt32) -> String? { owners[address] }

    /// The pod's address: the one it already holds, else the next free one.
    public mutating func allocate(podUID: String) throws -> UInt32 {
        if let existing = byPod[podUID] { return existing }
        let count = UInt32(capacity)
        var candidate = last
        for _ in 0..<count {
            candidate = candidate >= lastAssignable || candidate < firstAssignable ? firstAssignable : candidate + 1
            if owners[candidate] == nil {
                record(candidate, podUID)
                last = candidate
                return candidate
            }
        }
        throw IPAMError.exhausted(cidr.description)
    }

    /// Claims a specific address (a pod's persisted one). Fails when it is outside the
    /// assignable range or held by another pod; succeeds again for the same pod.
    public mutating func reserve(_ address: UInt32, podUID: String) throws {
        guard address >= firstAssignable, address <= lastAssignable else {
            throw IPAMError.unavailable(IPv4CIDR.format(address))
        }
        if let holder = owners[address] {
            guard holder == podUID else { throw IPAMError.unavailable(IPv4CIDR.format(address)) }
            return
        }
        if let previous = byPod[podUID] { owners[previous] = nil }
        record(address, podUID)
        // Continue after the highest replayed address rather than restarting at the bottom.
        last = max(last, address)
    }

    public mutating func release(podUID: String) {
        guard let address = byPod.removeValue(forKey: podUID) else { return }
        owners[address] = nil
    }

    private mutating func record(_ address: UInt32, _ podUID: String) {
        owners[address] = podUID
        byPod[podUID] = address
    }
}
