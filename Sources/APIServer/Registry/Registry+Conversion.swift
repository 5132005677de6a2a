import Foundation
import KubeModel

extension Registry {
    /// Objects in the storage version as clients of `version` see them: one conversion
    /// webhook call for all of them, or the strategy's own conversion per object.
    func presentAll(_ objects: [JSONValue], strategy: any ResourceStrategy, version: String) async throws(APIError) -> [JSONValue] {
        guard version != strategy.definition.storageVersion, !objects.isEmpty else { return objects }
        if let webhook = strategy.conversionWebhook {
            return try await convertByWebhook(objects, webhook, strategy: strategy, to: version)
        }
        var out: [JSONValue] = []
        out.reserveCapacity(objects.count)
        for o in objects { out.append(try await present(o, strategy: strategy, version: version)) }
        return out
    }

    /// Sends `objects` to the kind's conversion webhook in one ConversionReview and checks the
    /// answer as kube-apiserver does; any failure is a 500 carrying the webhook's message.
    func convertByWebhook(_ objects: [JSONValue], _ webhook: ConversionWebhook, strategy: any ResourceStrategy,
                          to version: String) async throws(APIError) -> [JSONValue] {
        let def = strategy.definition
        let desired = def.apiVersion(version)
        // Objects already in the desired version are not sent, as kube-apiserver skips them.
        let pending = objects.indices.filter { objects[$0].apiVersion != desired }
        guard !pending.isEmpty else { return objects }
        let review = ConversionReview(desiredAPIVersion: desired, objects: pending.map { objects[$0] })
        let answer: JSONValue
        do {
            answer = try await WebhookCaller.call(webhook.hook, review: review.request, registry: self)
        } catch {
            throw APIError.internalError("conversion webhook for \(def.groupResource) failed: \(error.description)")
        }
        let converted: [JSONValue]
        do {
            converted = try review.read(answer)
        } catch {
            throw APIError.internalError("conversion webhook for \(def.groupResource) failed: \(error.description)")
        }
        var out = objects
        for (i, index) in pending.enumerated() { out[index] = converted[i] }
        return out
    }
}
