import Foundation
import KubeModel

/// A custom resource's conversion webhook (`spec.conversion.webhook` of its definition, with
/// `strategy: Webhook`): reached as admission webhooks are, by URL or Service with the
/// definition's `caBundle`, given 30 seconds per call as kube-apiserver gives.
public struct ConversionWebhook: Sendable {
    let hook: Webhook

    /// The webhook of a definition's `spec.conversion`; nil unless its strategy is Webhook.
    init?(conversion: JSONValue?, definition name: String) {
        guard let conversion, conversion["strategy"]?.stringValue == "Webhook",
              let client = conversion[path: ["webhook", "clientConfig"]],
              let hook = Webhook(["name": .string(name), "clientConfig": client, "timeoutSeconds": 30], configuration: name) else { return nil }
        self.hook = hook
    }
}

/// One `apiextensions.k8s.io/v1` ConversionReview: the request sent and the checks its
/// response must pass (kube-apiserver's): the same uid, `result.status: Success`, as many
/// objects as sent, each of the desired apiVersion and the same kind. Of the metadata only
/// labels and annotations may change; the rest is taken back from the object sent.
struct ConversionReview {
    let uid = RandomUUID.string()
    let desiredAPIVersion: String
    let objects: [JSONValue]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var request: JSONValue {
        ["apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview",
         "request": ["uid": .string(uid), "desiredAPIVersion": .string(desiredAPIVersion), "objects": .array(objects)]]
    }

    /// The converted objects of a valid answer, in the order sent.
    func read(_ answer: JSONValue) throws(Failure) -> [JSONValue] {
        guard answer["kind"]?.stringValue == "ConversionReview", let response = answer["response"], response.objectValue != nil else {
            throw Failure(description: "expected response of kind ConversionReview with a response, got \(JSONWriter.string(answer).prefix(200))")
        }
        if answer["apiVersion"]?.stringValue != "apiextensions.k8s.io/v1" {
            throw Failure(description: "expected webhook response of apiextensions.k8s.io/v1, got \(answer["apiVersion"]?.stringValue ?? "")")
        }
        let got = response["uid"]?.stringValue ?? ""
        guard got == uid else { throw Failure(description: "expected response uid \"\(uid)\", got \"\(got)\"") }
        guard response[path: ["result", "status"]]?.stringValue == "Success" else {
            throw Failure(description: response[path: ["result", "message"]]?.stringValue ?? "conversion failed without a message")
        }
        let converted = response["convertedObjects"]?.arrayValue ?? []
        guard converted.count == objects.count else {
            throw Failure(description: "returned \(converted.count) objects, expected \(objects.count)")
        }
        var out: [JSONValue] = []
        for (original, object) in zip(objects, converted) {
            guard object.apiVersion == desiredAPIVersion else {
                throw Failure(description: "invalid converted object: expected apiVersion \(desiredAPIVersion), got \(object.apiVersion ?? "")")
            }
            guard object["kind"] == original["kind"] else {
                throw Failure(description: "invalid converted object: expected kind \(original["kind"]?.stringValue ?? ""), got \(object["kind"]?.stringValue ?? "")")
            }
            guard let metadata = object["metadata"], metadata.objectValue != nil else {
                throw Failure(description: "invalid converted object: missing metadata")
            }
            let problems = NameValidation.validateLabels(metadata["labels"], path: "metadata.labels")
            if let first = problems.first { throw Failure(description: "invalid metadata of converted object: \(first)") }
            var restored = object
            var meta = original["metadata"] ?? .object([:])
            meta["labels"] = metadata["labels"]
            meta["annotations"] = metadata["annotations"]
            restored["metadata"] = meta
            out.append(restored)
        }
        return out
    }
}
