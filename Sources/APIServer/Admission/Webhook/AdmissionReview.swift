import Foundation
import KubeModel

/// The admission.k8s.io/v1 AdmissionReview a webhook receives and the answer it sends back.
enum AdmissionReview {
    /// What a webhook answered: allowed or not (with its Status), a JSON patch, warnings.
    struct Verdict: Sendable {
        var allowed: Bool
        var status: JSONValue?
        var patch: JSONValue?
        var warnings: [String]
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func request(_ r: AdmissionRequest, uid: String) -> JSONValue {
        let def = r.resource
        let version = def.storageVersion
        var req: JSONValue = [
            "uid": .string(uid),
            "kind": ["group": .string(def.group), "version": .string(version), "kind": .string(def.kind)],
            "resource": ["group": .string(def.group), "version": .string(version), "resource": .string(def.plural)],
            "requestKind": ["group": .string(def.group), "version": .string(version), "kind": .string(def.kind)],
            "requestResource": ["group": .string(def.group), "version": .string(version), "resource": .string(def.plural)],
            "name": .string(r.name),
            "operation": .string(r.operation.rawValue),
            "dryRun": .bool(r.dryRun),
        ]
        if let sub = r.subresource {
            req["subResource"] = .string(sub)
            req["requestSubResource"] = .string(sub)
        }
        if let ns = r.namespace { req["namespace"] = .string(ns) }
        var user: JSONValue = ["username": .string(r.user?.name ?? "system:apiserver")]
        if let u = r.user {
            if !u.uid.isEmpty { user["uid"] = .string(u.uid) }
            user["groups"] = .array(u.groups.map { .string($0) })
        } else {
            user["groups"] = ["system:masters"]
        }
        req["userInfo"] = user
        switch r.operation {
        case .create:
            req["object"] = r.object
            req["options"] = options("CreateOptions", dryRun: r.dryRun)
        case .update:
            req["object"] = r.object
            req["oldObject"] = r.oldObject ?? .null
            req["options"] = options("UpdateOptions", dryRun: r.dryRun)
        case .delete:
            req["oldObject"] = r.object
            req["options"] = options("DeleteOptions", dryRun: r.dryRun)
        }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req]
    }

    static func options(_ kind: String, dryRun: Bool) -> JSONValue {
        var o: JSONValue = ["kind": .string(kind), "apiVersion": "meta.k8s.io/v1"]
        if dryRun { o["dryRun"] = ["All"] }
        return o
    }

    /// Reads the webhook's answer; `Malformed` says what was wrong with it, as kube-apiserver does.
    static func verdict(_ body: JSONValue, uid: String, mutating: Bool) throws(Malformed) -> Verdict {
        guard body["apiVersion"]?.stringValue == "admission.k8s.io/v1", body["kind"]?.stringValue == "AdmissionReview" else {
            let got = "\(body["apiVersion"]?.stringValue ?? ""), Kind=\(body["kind"]?.stringValue ?? "")"
            throw Malformed(description: "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(got)")
        }
        guard let response = body["response"], response.objectValue != nil else {
            throw Malformed(description: "webhook response was absent")
        }
        let got = response["uid"]?.stringValue ?? ""
        guard got == uid else { throw Malformed(description: "expected response.uid=\"\(uid)\", got \"\(got)\"") }
        var verdict = Verdict(allowed: response["allowed"]?.boolValue ?? false, status: response["status"], patch: nil,
                              warnings: (response["warnings"]?.arrayValue ?? []).compactMap(\.stringValue))
        if let patch = response["patch"]?.stringValue, !patch.isEmpty {
            guard mutating else { throw Malformed(description: "validating webhook may not return response.patch") }
            guard let type = response["patchType"]?.stringValue else {
                throw Malformed(description: "webhook returned response.patch but not response.patchType")
            }
            guard type == "JSONPatch" else { throw Malformed(description: "webhook returned invalid response.patchType of \"\(type)\"") }
            guard let data = Data(base64Encoded: patch) else { throw Malformed(description: "webhook returned a patch that is not base64") }
            do {
                verdict.patch = try JSONParser.parse(data)
            } catch {
                throw Malformed(description: "webhook returned a patch that is not JSON: \(error.message)")
            }
        } else if let type = response["patchType"]?.stringValue, !type.isEmpty {
            throw Malformed(description: "webhook returned response.patchType but not response.patch")
        }
        return verdict
    }

    /// The error a denial becomes: "admission webhook "x" denied the request: why", with the
    /// webhook's code (400 when it gave none below 400) and reason.
    static func denial(_ hook: Webhook, status: JSONValue?) -> APIError {
        let deniedBy = "admission webhook \"\(hook.name)\" denied the request"
        let message = status?["message"]?.stringValue ?? ""
        let reason = status?["reason"]?.stringValue ?? ""
        var code = Int(status?["code"]?.intValue ?? 0)
        if code < 400 { code = 400 }
        let text = !message.isEmpty ? "\(deniedBy): \(message)" : !reason.isEmpty ? "\(deniedBy): \(reason)" : "\(deniedBy) without explanation"
        return APIError(code: code, reason: reason, message: text, details: status?["details"])
    }

    /// A webhook that could not be called, or answered nonsense, under failurePolicy Fail.
    static func callFailure(_ hook: Webhook, _ why: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: failed calling webhook \"\(hook.name)\": \(why)",
                 details: ["causes": [["message": .string("failed calling webhook \"\(hook.name)\": \(why)")]]])
    }
}
