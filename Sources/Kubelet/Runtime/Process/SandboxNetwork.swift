import Foundation

/// What the process runtime needs from pod networking (PodNetwork conforms); keeps the
/// runtime testable without root and independent of how namespaces are made.
public protocol SandboxNetwork: Sendable {
    /// Idempotent: the pod's network namespace path and IP.
    func setUp(podUID: String) async throws -> SandboxStatus
    func tearDown(podUID: String) async
    /// The node's address, the pod IP of host-network pods.
    func hostIP() async -> String
}

extension PodNetwork: SandboxNetwork {}
