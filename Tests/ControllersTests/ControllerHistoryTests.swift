import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The shared controller history: one revision per distinct template, renumbered when an older
/// template comes back, a new hash when another object holds the name, and pruning that spares
/// revisions still in use.
@Suite struct ControllerHistoryTests {
    let client = RecordingClient()

    func owner(image: String) -> JSONValue {
        client.tracker.add([
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "db", "namespace": "default", "uid": "set-uid"],
            "spec": ["template": ["metadata": ["labels": ["app": "db"]], "spec": ["containers": [["name": "db", "image": .string(image)]]]]],
        ], to: StatefulSetController.resource)
    }

    func history(_ owner: JSONValue) -> ControllerHistory {
        ControllerHistory(client: client, owner: owner, ownerKind: "StatefulSet", hashLabel: ControllerHistory.revisionHashLabel)
    }

    func revision(of owner: JSONValue, number: Int64, name: String? = nil) -> JSONValue {
        let data = ControllerHistory.data(of: owner)
        let hash = ControllerHistory.hash(of: data, collisionCount: 0)
        return client.tracker.add([
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": ["name": .string(name ?? ControllerHistory.name(owner: "db", hash: hash)), "namespace": "default",
                         "labels": ["app": "db", "controller.kubernetes.io/hash": .string(hash)],
                         "ownerReferences": [ObjectRules.ownerReference(to: owner, apiVersion: "apps/v1", kind: "StatefulSet")]],
            "data": data, "revision": .int(number),
        ], to: ControllerHistory.resource)
    }

    @Test func anUnchangedTemplateKeepsItsRevision() async throws {
        let set = owner(image: "db:1")
        let existing = [revision(of: set, number: 1)]
        let (current, collisions) = try await history(set).snapshot(existing: existing, collisionCount: 0)
        #expect(current.name == existing[0].name && collisions == 0)
        #expect(client.actions().isEmpty)
    }

    @Test func aNewTemplateIsTheNextRevisionWithTheTemplateLabels() async throws {
        let old = owner(image: "db:1")
        let existing = [revision(of: old, number: 1)]
        let set = owner(image: "db:2")
        let (current, _) = try await history(set).snapshot(existing: existing, collisionCount: 0)
        #expect(current["revision"] == 2)
        #expect(current.labels["app"] == "db" && current.labels["controller.kubernetes.io/hash"] != nil)
        #expect(current[path: ["data", "spec", "template", "spec", "containers"]] == [["name": "db", "image": "db:2"]])
        #expect(client.actions().map(\.verb) == ["create"])
    }

    @Test func goingBackRenumbersTheOldRevision() async throws {
        let first = owner(image: "db:1")
        let r1 = revision(of: first, number: 1)
        let r2 = revision(of: owner(image: "db:2"), number: 2)
        let back = owner(image: "db:1")
        let (current, _) = try await history(back).snapshot(existing: [r1, r2], collisionCount: 0)
        #expect(current.name == r1.name && current["revision"] == 3)
        #expect(client.actions().map(\.verb) == ["patch"])
    }

    @Test func aNameTakenByOtherDataBumpsTheCollisionCount() async throws {
        let set = owner(image: "db:2")
        let taken = ControllerHistory.name(owner: "db", hash: ControllerHistory.hash(of: ControllerHistory.data(of: set), collisionCount: 0))
        _ = revision(of: owner(image: "db:9"), number: 1, name: taken)
        let (current, collisions) = try await history(set).snapshot(existing: [], collisionCount: 0)
        #expect(collisions == 1)
        #expect(current.name != taken)
        #expect(current[path: ["data", "spec", "template", "spec", "containers"]] == [["name": "db", "image": "db:2"]])
    }

    @Test func pruningSparesLiveRevisionsAndKeepsTheLimit() async throws {
        let set = owner(image: "db:1")
        let revisions = (1...4).map { i in revision(of: set, number: Int64(i), name: "db-r\(i)") }
        try await history(set).truncate(revisions, live: ["db-r1"], limit: 1)
        #expect(Set(client.actions().filter { $0.verb == "delete" }.compactMap(\.name)) == ["db-r2", "db-r3"])
    }
}
