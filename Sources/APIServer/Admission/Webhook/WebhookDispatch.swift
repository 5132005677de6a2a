import Foundation
import KubeModel
import Logging

/// What the two webhook plugins share: which requests webhooks see, which webhooks a request
/// selects, and one call with its failure policy applied.
enum WebhookDispatch {
    static let logger = Logger(label: "caravel.admission.webhook")

    /// Writes to the webhook configurations themselves never go to webhooks, as in Kubernetes,
    /// so a broken webhook can always be removed.
    static func applies(to request: AdmissionRequest) -> Bool {
        request.resource.group != "admissionregistration.k8s.io"
    }

    /// The mutating or validating webhooks whose rules, namespace selector and object selector
    /// take the request, in calling order.
    static func selected(_ configurations: WebhookConfigurations, mutating: Bool, _ request: AdmissionRequest,
                         registry: Registry) async throws(APIError) -> [Webhook] {
        guard applies(to: request) else { return [] }
        let snapshot = try await configurations.current(store: registry.store)
        let hooks = mutating ? snapshot.mutating : snapshot.validating
        guard !hooks.isEmpty else { return [] }
        var selected = hooks.filter { $0.matchesRules(request) && $0.matchesObject(request) }
        if selected.contains(where: { $0.namespaceSelector != nil }) {
            let labels = try await namespaceLabels(request, registry: registry)
            selected = selected.filter { hook in
                guard let selector = hook.namespaceSelector, let labels else { return true }
                return selector.matches(labels)
            }
        }
        guard selected.contains(where: { !$0.matchConditions.isEmpty }) else { return selected }
        let activation = AdmissionActivation.base(request)
        var called: [Webhook] = []
        for hook in selected where try matchesConditions(hook, activation) { called.append(hook) }
        return called
    }

    /// Whether every match condition holds. A false one skips the webhook; one that fails to
    /// evaluate skips it under failurePolicy Ignore and refuses the request under Fail.
    static func matchesConditions(_ hook: Webhook, _ activation: [String: CELValue]) throws(APIError) -> Bool {
        var firstError: (String, CELError)?
        for (name, program) in hook.matchConditions {
            do {
                if try !program.evaluateBool(activation) { return false }
            } catch {
                firstError = firstError ?? (name, error)
            }
        }
        guard let (name, error) = firstError else { return true }
        _ = try failed(hook, "failed to evaluate match condition '\(name)': \(error.description)")
        return false
    }

    /// The labels a namespace selector is matched against: the request's namespace, or the
    /// Namespace written; nil for other cluster-scoped kinds, which every selector takes.
    static func namespaceLabels(_ request: AdmissionRequest, registry: Registry) async throws(APIError) -> [String: String]? {
        if request.resource.group.isEmpty && request.resource.plural == "namespaces" {
            var labels = request.object.labels
            if labels.isEmpty, let old = request.oldObject { labels = old.labels }
            return labels
        }
        guard request.resource.namespaced, let ns = request.namespace else { return nil }
        do {
            return try await registry.get(registry.namespaces, version: "v1", namespace: nil, name: ns).labels
        } catch where error.code == 404 {
            return [:]
        }
    }

    /// Calls one webhook: its verdict, or nil when it failed and its failure policy is Ignore.
    /// A denial and a failure under Fail are thrown as the errors kube-apiserver answers.
    static func call(_ hook: Webhook, _ request: AdmissionRequest, mutating: Bool, registry: Registry) async throws(APIError) -> AdmissionReview.Verdict? {
        let uid = RandomUUID.string()
        let review = AdmissionReview.request(request, uid: uid)
        let body: JSONValue
        do {
            body = try await WebhookCaller.call(hook, review: review, registry: registry)
        } catch {
            return try failed(hook, error.description)
        }
        let verdict: AdmissionReview.Verdict
        do {
            verdict = try AdmissionReview.verdict(body, uid: uid, mutating: mutating)
        } catch {
            return try failed(hook, "received invalid webhook response: \(error.description)")
        }
        if !verdict.allowed { throw AdmissionReview.denial(hook, status: verdict.status) }
        return verdict
    }

    static func failed(_ hook: Webhook, _ why: String) throws(APIError) -> AdmissionReview.Verdict? {
        guard hook.failOpen else { throw AdmissionReview.callFailure(hook, why) }
        logger.warning("webhook failed, ignored by its failure policy", metadata: ["webhook": .string(hook.name), "error": .string(why)])
        return nil
    }
}
