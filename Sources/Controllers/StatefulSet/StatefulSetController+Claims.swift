import Foundation
import KubeClient
import KubeModel

extension StatefulSetController {
    /// Creates the claim unless it exists (a claim outlives its pod: that is the point).
    func ensureClaim(_ set: JSONValue, template: JSONValue, ordinal: Int, podName: String) async throws {
        let claim = StatefulPodIdentity.newClaim(set: set, template: template, ordinal: ordinal)
        let name = claim.name ?? ""
        if claims.get(namespace: set.namespace, name: name) != nil { return }
        // The cache may not have seen a claim made a moment ago.
        do {
            _ = try await client.get(Self.claimResource.inNamespace(set.namespace).named(name).path)
            return
        } catch let e as KubeAPIError where e.isNotFound {}
        do {
            _ = try await client.create(Self.claimResource.inNamespace(set.namespace).path, claim)
            await recorder.record(set, apiVersion: "apps/v1", kind: "StatefulSet", reason: "SuccessfulCreate",
                                  message: "create Claim \(name) Pod \(podName) in StatefulSet \(set.name ?? "") success")
        } catch let e as KubeAPIError where e.isAlreadyExists {}
    }

    /// `whenScaled: Delete`: the condemned pod takes its claims over from the set (with the set
    /// still an owner, the collector would keep them), so they go with the pod.
    func handClaims(of pod: JSONValue, from set: JSONValue) async throws {
        let setName = set.name ?? ""
        guard let ordinal = StatefulPodIdentity.ordinal(of: pod, set: setName) else { return }
        for template in StatefulPodIdentity.claimTemplates(set) {
            let name = StatefulPodIdentity.claimName(template: template[path: ["metadata", "name"]]?.stringValue ?? "", set: setName, ordinal: ordinal)
            let path = Self.claimResource.inNamespace(set.namespace).named(name).path
            do {
                let claim = try await client.get(path)
                var refs = (claim[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != set.uid }
                guard !refs.contains(where: { $0["uid"]?.stringValue == pod.uid }) else { continue }
                refs.append(StatefulPodIdentity.ownerReference(to: pod, kind: "Pod", apiVersion: "v1"))
                _ = try await client.patch(path, ["metadata": ["ownerReferences": .array(refs)]], type: .merge)
            } catch let e as KubeAPIError where e.isNotFound {}
        }
    }

    /// `whenDeleted` for the claims of the set's current ordinals, kept as the policy says now
    /// (it may change after the claims were made): owned by the set for `Delete`, not for `Retain`.
    func syncClaimOwners(_ set: JSONValue, plan: StatefulSetPlan) async throws {
        let templates = StatefulPodIdentity.claimTemplates(set)
        guard !templates.isEmpty, let uid = set.uid else { return }
        let owned = StatefulPodIdentity.retention(set, "whenDeleted") == "Delete"
        for ordinal in plan.pods.keys.sorted() where plan.range.contains(ordinal) {
            for template in templates {
                let volume = template[path: ["metadata", "name"]]?.stringValue ?? ""
                let name = StatefulPodIdentity.claimName(template: volume, set: set.name ?? "", ordinal: ordinal)
                guard let claim = claims.get(namespace: set.namespace, name: name), !ObjectRules.isTerminating(claim) else { continue }
                let refs = claim[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
                let hasSet = refs.contains { $0["uid"]?.stringValue == uid }
                guard hasSet != owned else { continue }
                let updated = owned ? refs + [StatefulPodIdentity.ownerReference(to: set, kind: "StatefulSet", apiVersion: "apps/v1")]
                                    : refs.filter { $0["uid"]?.stringValue != uid }
                let patch: JSONValue = ["metadata": ["ownerReferences": .array(updated), "resourceVersion": .string(claim.resourceVersion ?? "")]]
                do {
                    _ = try await client.patch(Self.claimResource.inNamespace(set.namespace).named(name).path, patch, type: .merge)
                } catch let e as KubeAPIError where e.isNotFound || e.isConflict {}
            }
        }
    }
}
