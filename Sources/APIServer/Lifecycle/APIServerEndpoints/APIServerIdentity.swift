import Crypto
import Foundation
import KubeModel

/// One API server as the others see it: a Lease in kube-system named `apiserver-<hash>` with
/// the `apiserver.kubernetes.io/identity=kube-apiserver` label, as kube-apiserver's identity
/// leases, renewed while the server runs. It also carries the address and port the server
/// advertises, which the `kubernetes` Service's endpoints list while the Lease is live.
public struct APIServerIdentity: Sendable, Equatable {
    public static let namespace = "kube-system"
    public static let identityLabel = "apiserver.kubernetes.io/identity"
    public static let identityValue = "kube-apiserver"
    static let addressAnnotation = "apiserver.caravel.dev/advertise-address"
    static let portAnnotation = "apiserver.caravel.dev/advertise-port"

    /// The Lease's name: stable across restarts of the same server (host, address and port),
    /// distinct for several servers on one host.
    public let leaseName: String
    /// `<leaseName>_<uuid>`: which process holds the Lease now.
    public let holder: String
    public let hostname: String
    public let address: String
    public let port: Int

    public init(hostname: String, address: String, port: Int) {
        self.hostname = hostname
        self.address = address
        self.port = port
        let digest = SHA256.hash(data: Data("\(hostname)|\(address)|\(port)".utf8))
        leaseName = "apiserver-" + digest.prefix(8).map { String(format: "%02x", $0) }.joined()
        holder = leaseName + "_" + RandomUUID.string()
    }

    /// The address other servers and pods reach this one at: `--advertise-address`, else the
    /// bind address when it is a specific one, else loopback (pods reach a loopback server
    /// through the service proxy's loopback DNAT).
    public static func advertiseAddress(configured: String?, bindAddress: String) -> String {
        if let configured, !configured.isEmpty { return configured }
        return ["0.0.0.0", "::", ""].contains(bindAddress) ? "127.0.0.1" : bindAddress
    }

    static func key(_ name: String) -> String { "/registry/coordination.k8s.io/leases/\(namespace)/\(name)" }
    static var prefix: String { "/registry/coordination.k8s.io/leases/\(namespace)/" }

    /// The Lease as renewed at `now`.
    func lease(now: Date, duration: Duration) -> JSONValue {
        [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": [
                "name": .string(leaseName), "namespace": .string(Self.namespace),
                "labels": [Self.identityLabel: .string(Self.identityValue), "kubernetes.io/hostname": .string(hostname)],
                "annotations": [Self.addressAnnotation: .string(address), Self.portAnnotation: .string(String(port))],
            ],
            "spec": [
                "holderIdentity": .string(holder),
                "leaseDurationSeconds": .int(max(1, duration.components.seconds)),
                "renewTime": .string(Timestamp.formatMicro(now)),
            ],
        ]
    }

    /// Where a live API server's Lease says it serves; nil for other Leases, expired ones and
    /// ones without an advertised address.
    static func endpoint(of lease: JSONValue, now: Date) -> APIServerEndpoint? {
        guard lease[path: ["metadata", "labels", identityLabel]]?.stringValue == identityValue, !isExpired(lease, now: now),
              let address = lease[path: ["metadata", "annotations", addressAnnotation]]?.stringValue,
              let port = lease[path: ["metadata", "annotations", portAnnotation]]?.stringValue.flatMap({ Int($0) }),
              (1...65535).contains(port) else { return nil }
        return APIServerEndpoint(address: address, port: port)
    }

    /// Whether an identity Lease was last renewed more than its duration ago.
    static func isExpired(_ lease: JSONValue, now: Date) -> Bool {
        guard let renewed = lease[path: ["spec", "renewTime"]]?.stringValue.flatMap(Timestamp.parse),
              let seconds = lease[path: ["spec", "leaseDurationSeconds"]]?.intValue else { return true }
        return renewed.addingTimeInterval(Double(seconds)) < now
    }
}

/// Where one API server serves.
public struct APIServerEndpoint: Sendable, Hashable, Comparable {
    public var address: String
    public var port: Int

    public static func < (a: Self, b: Self) -> Bool { (a.port, a.address) < (b.port, b.address) }
}
