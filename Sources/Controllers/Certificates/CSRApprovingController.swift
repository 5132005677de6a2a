import Foundation
import KubeClient
import KubeModel

/// Kubernetes' csrapproving controller: approves kubelet client CSRs
/// (`kubernetes.io/kube-apiserver-client-kubelet`) whose subject is a node identity
/// (`CN=system:node:NAME, O=system:nodes`) when the requester may ask for one, by a
/// SubjectAccessReview as in Kubernetes: `create certificatesigningrequests/selfnodeclient`
/// when a node renews its own certificate, `.../nodeclient` for a new node (bootstrap tokens).
/// Anything else is left for a person (`kubectl certificate approve`).
public struct CSRApprovingController: Reconciler {
    static let signerName = "kubernetes.io/kube-apiserver-client-kubelet"
    static let nodePrefix = "system:node:"
    static let allowedUsages: Set<String> = ["digital signature", "key encipherment", "client auth"]

    let client: any ResourceClient
    let csrs: ObjectCache
    let subject: @Sendable (String) -> (commonName: String, organizations: [String])?

    /// Watches CSRs; one worker.
    static func descriptor(client: any ResourceClient, signing: CSRSigning) -> ControllerDescriptor {
        ControllerDescriptor(name: "csrapproving", workers: 1) { wiring in
            wiring.watchOwn(CSRFacts.resource)
            return CSRApprovingController(client: client, csrs: wiring.cache(CSRFacts.resource), subject: signing.subject)
        }
    }

    /// Which permission the requester needs for this CSR; nil when it is no kubelet client CSR.
    static func requiredSubresource(_ csr: JSONValue, subject: (String) -> (commonName: String, organizations: [String])?) -> String? {
        guard csr[path: ["spec", "signerName"]]?.stringValue == signerName, let pem = CSRFacts.requestPEM(csr),
              let (cn, orgs) = subject(pem), orgs == ["system:nodes"], cn.hasPrefix(nodePrefix), cn.count > nodePrefix.count
        else { return nil }
        let usages = Set(CSRFacts.usages(csr))
        guard usages.contains("client auth"), usages.isSubset(of: allowedUsages) else { return nil }
        return csr[path: ["spec", "username"]]?.stringValue == cn ? "selfnodeclient" : "nodeclient"
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let csr = csrs.get(key), let name = csr.name else { return .done }
        let conditions = CSRFacts.conditionTypes(csr)
        guard !conditions.contains("Approved"), !conditions.contains("Denied"),
              let sub = Self.requiredSubresource(csr, subject: subject),
              try await requesterMay(csr, subresource: sub) else { return .done }
        var updated = csr
        var list = csr[path: ["status", "conditions"]]?.arrayValue ?? []
        list.append(CSRFacts.condition("Approved", reason: "AutoApproved",
                                       message: "Auto approving kubelet client certificate after SubjectAccessReview."))
        updated[path: ["status", "conditions"]] = .array(list)
        do {
            _ = try await client.update(CSRFacts.resource.named(name).path + "/approval", updated)
        } catch let e as KubeAPIError where e.isNotFound {
            return .done
        }
        return .done
    }

    /// Asks the API server whether the CSR's requester may `create` the subresource.
    func requesterMay(_ csr: JSONValue, subresource: String) async throws -> Bool {
        var spec: JSONValue = [
            "user": csr[path: ["spec", "username"]] ?? "",
            "groups": csr[path: ["spec", "groups"]] ?? [],
            "resourceAttributes": ["group": "certificates.k8s.io", "resource": "certificatesigningrequests", "verb": "create",
                                   "subresource": .string(subresource)],
        ]
        if let uid = csr[path: ["spec", "uid"]] { spec["uid"] = uid }
        let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec]
        let answer = try await client.create("/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
        return answer[path: ["status", "allowed"]]?.boolValue == true
    }
}
