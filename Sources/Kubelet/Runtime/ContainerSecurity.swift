import KubeModel

/// A container's `securityContext` (over the pod's), as runtimes that isolate containers apply
/// it; the process runtime runs everything as the kubelet's user and ignores it.
public struct ContainerSecurity: Sendable, Equatable {
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var supplementalGroups: [Int64] = []
    public var privileged = false
    public var readOnlyRootFilesystem = false
    public var allowPrivilegeEscalation: Bool?
    /// Capability names without `CAP_` (`NET_ADMIN`), as the API writes them; `ALL` allowed.
    public var addCapabilities: [String] = []
    public var dropCapabilities: [String] = []
    /// `seccompProfile`, the container's over the pod's; none set is `Unconfined`, as in Kubernetes.
    public var seccomp: SeccompSetting = .unconfined

    public init() {}

    /// The container's settings over the pod's (`runAsUser`, `runAsGroup` are in both).
    public init(container: JSONValue, pod: JSONValue) {
        let podContext = pod[path: ["spec", "securityContext"]]
        let context = container["securityContext"]
        runAsUser = context?["runAsUser"]?.intValue ?? podContext?["runAsUser"]?.intValue
        runAsGroup = context?["runAsGroup"]?.intValue ?? podContext?["runAsGroup"]?.intValue
        supplementalGroups = (podContext?["supplementalGroups"]?.arrayValue ?? []).compactMap(\.intValue)
        privileged = context?["privileged"]?.boolValue ?? false
        readOnlyRootFilesystem = context?["readOnlyRootFilesystem"]?.boolValue ?? false
        allowPrivilegeEscalation = context?["allowPrivilegeEscalation"]?.boolValue
        addCapabilities = (context?[path: ["capabilities", "add"]]?.arrayValue ?? []).compactMap(\.stringValue)
        dropCapabilities = (context?[path: ["capabilities", "drop"]]?.arrayValue ?? []).compactMap(\.stringValue)
        seccomp = SeccompSetting(context?["seccompProfile"] ?? podContext?["seccompProfile"])
    }
}

/// A `seccompProfile` as the API writes it.
public enum SeccompSetting: Sendable, Equatable {
    case unconfined
    case runtimeDefault
    /// A profile file relative to the kubelet's seccomp directory.
    case localhost(String)
    /// A type the API does not know: the container fails to be created.
    case unknown(String)

    init(_ profile: JSONValue?) {
        switch profile?["type"]?.stringValue {
        case nil, "Unconfined": self = .unconfined
        case "RuntimeDefault": self = .runtimeDefault
        case "Localhost": self = .localhost(profile?["localhostProfile"]?.stringValue ?? "")
        case let other?: self = .unknown(other)
        }
    }
}
