import Foundation
import KubeModel

/// Kubernetes' MutatingAdmissionWebhook plugin: before validation, the webhooks the request
/// selects are called one after another (configurations by name, webhooks in order), each
/// seeing the object as the previous left it and answering a JSON patch. A webhook with
/// `reinvocationPolicy: IfNeeded` is called once more when a later webhook changed the object
/// after it ran. Mutating webhooks are not called on DELETE: there is no object to patch.
public struct MutatingAdmissionWebhook: AdmissionPlugin {
    public let name = "MutatingAdmissionWebhook"
    let configurations: WebhookConfigurations

    public init(configurations: WebhookConfigurations) { self.configurations = configurations }

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        let selected = try await WebhookDispatch.selected(configurations, mutating: true, request, registry: registry)
        // The object as each webhook left it.
        var seen: [JSONValue?] = Array(repeating: nil, count: selected.count)
        for (i, hook) in selected.enumerated() {
            try await Self.run(hook, &request, registry: registry)
            seen[i] = request.object
        }
        // One more round for the webhooks that asked for it and missed a later change.
        for (i, hook) in selected.enumerated() where hook.reinvokeIfNeeded {
            guard let before = seen[i], !JSONPatch.jsonEqual(before, request.object) else { continue }
            try await Self.run(hook, &request, registry: registry)
        }
    }

    static func run(_ hook: Webhook, _ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard let verdict = try await WebhookDispatch.call(hook, request, mutating: true, registry: registry) else { return }
        request.warnings += verdict.warnings
        guard let patch = verdict.patch else { return }
        let patched: JSONValue
        do {
            patched = try JSONPatch.apply(patch, to: request.object)
        } catch {
            _ = try WebhookDispatch.failed(hook, "JSON patch: \(error.message)")
            return
        }
        let def = request.resource
        guard patched.objectValue != nil, patched["kind"]?.stringValue == def.kind,
              patched["apiVersion"]?.stringValue == def.apiVersion(def.storageVersion) else {
            _ = try WebhookDispatch.failed(hook, "the patched object changed its apiVersion or kind")
            return
        }
        request.object = patched
    }
}
