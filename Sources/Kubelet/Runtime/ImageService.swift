import Foundation

/// What the pod worker asks of a runtime before starting a container: make its image present
/// as the pull policy says. Runtimes that run no images (process, fake) have it present always.
public struct ImagePullRequest: Sendable {
    public var image: String
    /// `Always`, `IfNotPresent` or `Never` (the worker fills in Kubernetes' default).
    public var policy: String
    /// Credentials from the pod's `imagePullSecrets`, by registry host.
    public var credentials: [String: RegistryCredential]

    public init(image: String, policy: String, credentials: [String: RegistryCredential] = [:]) {
        self.image = image
        self.policy = policy
        self.credentials = credentials
    }
}

public enum ImagePullOutcome: Sendable, Equatable {
    /// Nothing fetched: `Container image "X" already present on machine`.
    case present
    /// Fetched from the registry: size of the image and how long it took.
    case pulled(sizeBytes: Int64, duration: Duration)
}

/// One entry of the node's `status.images`.
public struct NodeImage: Sendable, Equatable {
    public var names: [String]
    public var sizeBytes: Int64

    public init(names: [String], sizeBytes: Int64) {
        self.names = names
        self.sizeBytes = sizeBytes
    }
}

/// Runtimes that pull images implement these; the others inherit "always present".
public protocol ImageService: Sendable {
    /// Makes the image present per the policy. Throws `ContainerStartError` with reason
    /// `ErrImagePull` (the registry's message) or `ErrImageNeverPull`.
    func ensureImage(_ request: ImagePullRequest) async throws -> ImagePullOutcome
    /// The images on the node, for `status.images`.
    func nodeImages() async -> [NodeImage]
    /// One image garbage collection pass (the kubelet runs it every 5 minutes).
    func collectUnusedImages() async
}
