import Foundation
import KubeModel

/// The CEL variables an admission expression sees: `object` (null on delete), `oldObject` (null
/// on create), `request` (the AdmissionRequest fields webhooks get, without the objects), and
/// for policies `params`, `namespaceObject` and `variables`.
enum AdmissionActivation {
    static func base(_ r: AdmissionRequest) -> [String: CELValue] {
        var request = AdmissionReview.request(r, uid: "")["request"] ?? .object([:])
        request["object"] = nil
        request["oldObject"] = nil
        request["uid"] = nil
        let object: JSONValue = r.operation == .delete ? .null : r.object
        let old: JSONValue = r.operation == .delete ? r.object : (r.oldObject ?? .null)
        return ["object": CELValue(json: object), "oldObject": CELValue(json: old), "request": CELValue(json: request)]
    }
}
