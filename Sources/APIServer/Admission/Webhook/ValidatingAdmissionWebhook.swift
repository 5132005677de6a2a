import Foundation
import KubeModel

/// Kubernetes' ValidatingAdmissionWebhook plugin: after validation, every webhook the request
/// selects is asked at once; any denial (or a failure under failurePolicy Fail) refuses the
/// request, the first in configuration order being the one reported. Warnings reach the client.
public struct ValidatingAdmissionWebhook: AdmissionPlugin {
    public let name = "ValidatingAdmissionWebhook"
    let configurations: WebhookConfigurations

    public init(configurations: WebhookConfigurations) { self.configurations = configurations }

    public func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        let selected = try await WebhookDispatch.selected(configurations, mutating: false, request, registry: registry)
        guard !selected.isEmpty else { return }
        let asked = request
        let results = await withTaskGroup(of: (Int, Result<AdmissionReview.Verdict?, APIError>).self) { group in
            for (i, hook) in selected.enumerated() {
                group.addTask {
                    do throws(APIError) {
                        return (i, .success(try await WebhookDispatch.call(hook, asked, mutating: false, registry: registry)))
                    } catch {
                        return (i, .failure(error))
                    }
                }
            }
            var out: [(Int, Result<AdmissionReview.Verdict?, APIError>)] = []
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        for (_, result) in results {
            switch result {
            case .failure(let error): throw error
            case .success(let verdict?): request.warnings += verdict.warnings
            case .success(nil): continue
            }
        }
    }
}
