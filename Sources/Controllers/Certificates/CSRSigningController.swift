import Foundation
import KubeClient
import KubeModel

/// The CSR helpers both controllers use.
enum CSRFacts {
    static let resource = ResourcePath(group: "certificates.k8s.io", version: "v1", plural: "certificatesigningrequests")

    static func conditionTypes(_ csr: JSONValue) -> Set<String> {
        Set((csr[path: ["status", "conditions"]]?.arrayValue ?? []).compactMap { c in
            c["status"]?.stringValue == "True" ? c["type"]?.stringValue : nil
        })
    }

    /// spec.request is base64 of the PEM.
    static func requestPEM(_ csr: JSONValue) -> String? {
        guard let b64 = csr[path: ["spec", "request"]]?.stringValue, let d = Data(base64Encoded: b64) else { return nil }
        return String(decoding: d, as: UTF8.self)
    }

    static func usages(_ csr: JSONValue) -> [String] {
        (csr[path: ["spec", "usages"]]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    static func condition(_ type: String, reason: String, message: String) -> JSONValue {
        ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message),
         "lastUpdateTime": .string(now()), "lastTransitionTime": .string(now())]
    }
}

/// Kubernetes' csrsigning controller: approved, not yet issued CSRs for a signer this CA
/// serves get their certificate in `status.certificate`; requests a signer refuses get a
/// Failed condition with the reason, so the requester learns why instead of waiting.
public struct CSRSigningController: Reconciler {
    let client: any ResourceClient
    let csrs: ObjectCache
    let signing: CSRSigning

    /// Watches CSRs; one worker.
    static func descriptor(client: any ResourceClient, signing: CSRSigning) -> ControllerDescriptor {
        ControllerDescriptor(name: "csrsigning", workers: 1) { wiring in
            wiring.watchOwn(CSRFacts.resource)
            return CSRSigningController(client: client, csrs: wiring.cache(CSRFacts.resource), signing: signing)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let csr = csrs.get(key), let name = csr.name else { return .done }
        let conditions = CSRFacts.conditionTypes(csr)
        guard conditions.contains("Approved"), !conditions.contains("Denied"), !conditions.contains("Failed"),
              (csr[path: ["status", "certificate"]]?.stringValue ?? "").isEmpty else { return .done }
        let signer = csr[path: ["spec", "signerName"]]?.stringValue ?? ""
        var status = csr["status"] ?? .object([:])
        do {
            guard let pem = CSRFacts.requestPEM(csr),
                  let cert = try signing.sign(pem, signer, CSRFacts.usages(csr), csr[path: ["spec", "expirationSeconds"]]?.intValue.map { Int($0) })
            else { return .done }
            status["certificate"] = .string(Data(cert.utf8).base64EncodedString())
        } catch {
            var list = status["conditions"]?.arrayValue ?? []
            list.append(CSRFacts.condition("Failed", reason: "SignerValidationFailure", message: "\(error)"))
            status["conditions"] = .array(list)
        }
        var updated = csr
        updated["status"] = status
        do {
            _ = try await client.update(CSRFacts.resource.named(name).path + "/status", updated)
        } catch let e as KubeAPIError where e.isNotFound {
            return .done
        }
        return .done
    }
}
