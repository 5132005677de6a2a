/// The Ready condition as kubelet's `setNodeReadyCondition` builds it: Ready when no check
/// reports a problem; otherwise `KubeletNotReady` with the problems as its message.
public struct NodeReadiness: Sendable, Equatable {
    /// What keeps the node from being Ready, each in kubelet's words.
    public var problems: [String]

    public init(problems: [String] = []) { self.problems = problems }

    /// A node with nothing to check (simulated nodes).
    public static let ready = NodeReadiness()

    public var isReady: Bool { problems.isEmpty }

    /// Kubelet's aggregate error text: one problem as it is, several as `[a, b]`.
    public var message: String {
        if problems.isEmpty { return "kubelet is posting ready status" }
        return problems.count == 1 ? problems[0] : "[" + problems.joined(separator: ", ") + "]"
    }
}
