import KubeClient
import KubeModel

/// Where Secrets and ConfigMaps come from: the API server in the kubelet, a dictionary in tests.
public protocol ObjectSource: Sendable {
    /// The Secret, or nil when it does not exist (404). Other failures throw.
    func secret(namespace: String, name: String) async throws -> JSONValue?
    /// The ConfigMap, or nil when it does not exist (404). Other failures throw.
    func configMap(namespace: String, name: String) async throws -> JSONValue?
    /// The PersistentVolumeClaim, or nil when it does not exist (404). Other failures throw.
    func persistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue?
    /// The PersistentVolume, or nil when it does not exist (404). Other failures throw.
    func persistentVolume(name: String) async throws -> JSONValue?
    /// The Services of a namespace (for the service environment variables).
    func services(namespace: String) async throws -> [JSONValue]
}

extension ObjectSource {
    public func services(namespace: String) async throws -> [JSONValue] { [] }
}

/// Reads Secrets and ConfigMaps straight from the API server (the kubelet's credentials are
/// allowed to read them for pods bound to its node).
public struct RESTObjectSource: ObjectSource {
    let client: KubeRESTClient

    public init(client: KubeRESTClient) { self.client = client }

    public func secret(namespace: String, name: String) async throws -> JSONValue? {
        try await get("/api/v1/namespaces/\(namespace)/secrets/\(name)")
    }

    public func configMap(namespace: String, name: String) async throws -> JSONValue? {
        try await get("/api/v1/namespaces/\(namespace)/configmaps/\(name)")
    }

    public func persistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue? {
        try await get("/api/v1/namespaces/\(namespace)/persistentvolumeclaims/\(name)")
    }

    public func persistentVolume(name: String) async throws -> JSONValue? {
        try await get("/api/v1/persistentvolumes/\(name)")
    }

    public func services(namespace: String) async throws -> [JSONValue] {
        try await client.list("/api/v1/namespaces/\(namespace)/services")["items"]?.arrayValue ?? []
    }

    private func get(_ path: String) async throws -> JSONValue? {
        do {
            return try await client.get(path)
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }
}
