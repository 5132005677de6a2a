/// Per-server state that resource code needs beyond the store: what one API server
/// allocates, signs with and connects through. Built once by `APIServerBuilder` and handed to
/// the registry, so two servers in one process never share it.
public struct ServerEnvironment: Sendable {
    /// Cluster IPs and node ports held by Services.
    public let serviceAllocations: ServiceAllocations
    /// Signs ServiceAccount tokens; nil where the server issues none (`serviceaccounts/token` then answers 405).
    public let serviceAccountTokens: ServiceAccountTokenIssuer?
    /// How kubelets are reached for `pods/log` and `pods/exec`; nil where no kubelet is reachable.
    public let kubelets: KubeletClientConfig?

    public init(serviceAllocations: ServiceAllocations = ServiceAllocations(), serviceAccountTokens: ServiceAccountTokenIssuer? = nil,
                kubelets: KubeletClientConfig? = nil) {
        self.serviceAllocations = serviceAllocations
        self.serviceAccountTokens = serviceAccountTokens
        self.kubelets = kubelets
    }
}
