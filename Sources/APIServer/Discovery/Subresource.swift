/// The subresources a resource may advertise at `.../{name}/{subresource}`: discovery and
/// OpenAPI describe each by name; a strategy's `subresourceHandlers` serve them.
public enum Subresource: String, Sendable, Hashable, CaseIterable {
    case status, scale, log, binding, exec, attach, portforward, eviction, token, finalize
    /// CertificateSigningRequest approval (Approved/Denied conditions only).
    case approval
}
