import Foundation
import KubeModel

/// authorization.k8s.io/v1 SelfSubjectAccessReview, SubjectAccessReview and
/// SelfSubjectRulesReview: create-only questions to the authorizer, answered and never
/// stored (see `AccessReview`).
public struct AccessReviewStrategy: ResourceStrategy {
    /// Which question the kind asks.
    public enum Review: String, Sendable {
        case selfSubjectAccessReview = "SelfSubjectAccessReview"
        case subjectAccessReview = "SubjectAccessReview"
        case selfSubjectRulesReview = "SelfSubjectRulesReview"
    }

    /// The kind served.
    public let review: Review
    /// Whether the review asks about the caller rather than a named user and groups.
    public var isSelf: Bool { review != .subjectAccessReview }

    /// The strategy of one review kind.
    public init(_ review: Review) {
        self.review = review
        let kind = review.rawValue
        definition = ResourceDefinition(
            group: "authorization.k8s.io", versions: ["v1"], kind: kind, plural: kind.lowercased() + "s",
            namespaced: false, schemaNames: ["v1": "io.k8s.api.authorization.v1.\(kind)"])
    }

    /// SelfSubjectAccessReview when `isSelf`, SubjectAccessReview otherwise.
    public init(isSelf: Bool) {
        self.init(isSelf ? .selfSubjectAccessReview : .subjectAccessReview)
    }

    public let definition: ResourceDefinition

    public var storage: ResourceStorage? { AccessReview.storage(self) }
}
