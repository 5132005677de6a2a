/// kubectl-lite's own version, reported by `version`; it follows the kubectl release whose
/// behaviour it matches.
enum Version {
    static let client = "v1.33.0-lite"
    static let major = "1"
    static let minor = "33"
}
