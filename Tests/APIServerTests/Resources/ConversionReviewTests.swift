import Foundation
import Testing
@testable import APIServer
import KubeModel

/// The ConversionReview sent to a custom resource's conversion webhook and kube-apiserver's
/// checks on its answer; the definition's conversion settings.
@Suite struct ConversionReviewTests {
    let object: JSONValue = ["apiVersion": "example.com/v1", "kind": "Widget",
                             "metadata": ["name": "w", "namespace": "ns", "uid": "u-1", "labels": ["a": "b"]], "spec": ["x": 1]]

    func answer(_ review: ConversionReview, uid: String? = nil, objects: [JSONValue]? = nil, status: String = "Success") -> JSONValue {
        ["apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
         "response": ["uid": .string(uid ?? review.uid), "result": ["status": .string(status), "message": "no way"],
                      "convertedObjects": .array(objects ?? review.objects.map { o in var c = o; c["apiVersion"] = "example.com/v2"; return c })]]
    }

    func failure(_ review: ConversionReview, _ a: JSONValue) -> String? {
        do { _ = try review.read(a); return nil } catch { return error.description }
    }

    @Test func requestCarriesTheObjects() {
        let review = ConversionReview(desiredAPIVersion: "example.com/v2", objects: [object])
        #expect(review.request["kind"] == "ConversionReview" && review.request["apiVersion"] == "apiextensions.k8s.io/v1")
        #expect(review.request[path: ["request", "desiredAPIVersion"]] == "example.com/v2")
        #expect(review.request[path: ["request", "uid"]] == .string(review.uid))
        #expect(review.request[path: ["request", "objects"]] == [object])
    }

    @Test func acceptsAGoodAnswerKeepingMetadataButLabelsAndAnnotations() throws {
        let review = ConversionReview(desiredAPIVersion: "example.com/v2", objects: [object])
        var converted = object
        converted["apiVersion"] = "example.com/v2"
        converted[path: ["metadata", "name"]] = "other"
        converted[path: ["metadata", "uid"]] = "u-2"
        converted[path: ["metadata", "labels"]] = ["c": "d"]
        converted[path: ["metadata", "annotations"]] = ["note": "x"]
        let out = try review.read(answer(review, objects: [converted]))
        #expect(out.count == 1)
        #expect(out[0][path: ["metadata", "name"]] == "w" && out[0][path: ["metadata", "uid"]] == "u-1")
        #expect(out[0][path: ["metadata", "labels"]] == ["c": "d"] && out[0][path: ["metadata", "annotations"]] == ["note": "x"])
        #expect(out[0]["apiVersion"] == "example.com/v2" && out[0]["spec"] == ["x": 1])
    }

    @Test func refusesBadAnswers() {
        let review = ConversionReview(desiredAPIVersion: "example.com/v2", objects: [object])
        #expect(failure(review, answer(review, uid: "other"))?.contains("expected response uid") == true)
        #expect(failure(review, answer(review, status: "Failure")) == "no way")
        #expect(failure(review, answer(review, objects: [])) == "returned 0 objects, expected 1")
        #expect(failure(review, answer(review, objects: [object]))?.contains("expected apiVersion example.com/v2, got example.com/v1") == true)
        var otherKind = object
        otherKind["apiVersion"] = "example.com/v2"
        otherKind["kind"] = "Gadget"
        #expect(failure(review, answer(review, objects: [otherKind]))?.contains("expected kind Widget") == true)
        var badLabel = otherKind
        badLabel["kind"] = "Widget"
        badLabel[path: ["metadata", "labels"]] = ["-bad-": "x"]
        #expect(failure(review, answer(review, objects: [badLabel]))?.contains("invalid metadata") == true)
        #expect(failure(review, ["kind": "Status"])?.contains("expected response of kind ConversionReview") == true)
    }

    @Test func definitionConversionSettings() {
        let check = CustomResourceDefinitionStrategy.validateConversion
        #expect(check(["strategy": "None"]).isEmpty)
        let client: JSONValue = ["url": "https://127.0.0.1:9443/convert"]
        #expect(check(["strategy": "Webhook", "webhook": ["conversionReviewVersions": ["v1"], "clientConfig": client]]).isEmpty)
        #expect(check(["strategy": "Webhook"]).map(\.field) == ["spec.conversion.webhook"])
        #expect(check(["strategy": "Webhook", "webhook": ["conversionReviewVersions": ["v1beta1"], "clientConfig": client]]).map(\.field)
                == ["spec.conversion.webhook.conversionReviewVersions"])
        #expect(check(["strategy": "Webhook", "webhook": ["conversionReviewVersions": ["v1"],
                                                          "clientConfig": ["url": "http://127.0.0.1:1/x"]]]).map(\.field)
                == ["spec.conversion.webhook.clientConfig.url"])
        #expect(check(["strategy": "None", "webhook": ["clientConfig": client]]).map(\.field) == ["spec.conversion.webhook"])
        #expect(ConversionWebhook(conversion: ["strategy": "None"], definition: "w.example.com") == nil)
        #expect(ConversionWebhook(conversion: ["strategy": "Webhook", "webhook": ["conversionReviewVersions": ["v1"], "clientConfig": client]],
                                  definition: "w.example.com")?.hook.timeoutSeconds == 30)
    }
}
