import Foundation

/// What the CSR controllers need from the cluster CA. The controllers module has no X509 of
/// its own, so whoever starts the manager (which can read the CA key) hands these in.
public struct CSRSigning: Sendable {
    /// CN and O of a PEM certificate request; nil when it does not parse or verify.
    public var subject: @Sendable (_ requestPEM: String) -> (commonName: String, organizations: [String])?
    /// A PEM certificate for the request; nil when the signer is not one this CA serves;
    /// throws when the request breaks that signer's rules (the CSR is then marked Failed).
    public var sign: @Sendable (_ requestPEM: String, _ signerName: String, _ usages: [String], _ expirationSeconds: Int?) throws -> String?

    public init(subject: @escaping @Sendable (String) -> (commonName: String, organizations: [String])?,
                sign: @escaping @Sendable (String, String, [String], Int?) throws -> String?) {
        self.subject = subject
        self.sign = sign
    }
}
