import Foundation
import Testing
@testable import APIServer
import KubeModel

/// PriorityClass validation and table, and the Priority admission plugin: pods get the value of
/// their class or of the global default, unknown classes and stated priorities are refused, only
/// one default may exist, and the system classes stay.
@Suite struct PriorityClassTests {
    typealias F = AdmissionFixture
    let s = PriorityClassStrategy()

    static func priorityClass(_ name: String, _ value: Int64, globalDefault: Bool = false, policy: String? = nil) -> JSONValue {
        var o: JSONValue = ["apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": ["name": .string(name)],
                            "value": .int(value), "globalDefault": .bool(globalDefault)]
        if let policy { o["preemptionPolicy"] = .string(policy) }
        return o
    }

    func fixture() async throws -> F {
        let f = try F([PriorityAdmission()])
        try await APIServerBuilder.bootstrapPriorityClasses(f.registry)
        try await f.namespace("ns")
        return f
    }

    func createClass(_ f: F, _ body: JSONValue) async throws(APIError) {
        let pcs: any ResourceStrategy
        do { pcs = try f.strategy("priorityclasses", group: "scheduling.k8s.io") } catch { throw APIError.internalError("priorityclasses") }
        _ = try await f.registry.create(pcs, version: "v1", namespace: nil, body: body, options: WriteOptions())
    }

    func refusal(_ body: () async throws(APIError) -> Void) async -> APIError? {
        do { try await body(); return nil } catch { return error }
    }

    @Test func validation() {
        var user = Self.priorityClass("high", 1_000_000_001)
        s.applyDefaults(to: &user)
        #expect(user["preemptionPolicy"] == "PreemptLowerPriority")
        #expect(s.validate(user).map(\.message) == ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"])
        #expect(s.validate(Self.priorityClass("system-mine", 5)).map(\.message)
                == ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"])
        #expect(s.validate(Self.priorityClass("system-node-critical", 2_000_001_000)).isEmpty)
        #expect(s.validate(Self.priorityClass("system-node-critical", 7)).first?.message.hasSuffix("value of system-node-critical PriorityClass must be 2000001000") == true)
        #expect(!s.validate(Self.priorityClass("low", 1, policy: "Sometimes")).isEmpty)
        let changed = s.validateUpdate(Self.priorityClass("low", 2, policy: "Never"), old: Self.priorityClass("low", 1, policy: "PreemptLowerPriority"))
        #expect(changed.map(\.message) == ["value: Forbidden: may not be changed in an update.", "preemptionPolicy: Forbidden: may not be changed in an update."])
    }

    @Test func tableCells() {
        var o = Self.priorityClass("high", 1000, globalDefault: true)
        o[path: ["metadata", "creationTimestamp"]] = "2026-01-01T00:00:00Z"
        let now = Date(timeIntervalSince1970: 1_767_225_600 + 120)
        #expect(s.tableColumns.map(\.name) == ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"])
        #expect(s.tableCells(for: o, now: now) == ["high", 1000, true, "2m", "PreemptLowerPriority"])
    }

    @Test func podsTakeTheirClassValue() async throws {
        let f = try await fixture()
        try await createClass(f, Self.priorityClass("batch", 100, policy: "Never"))
        let pod = try await f.create("pods", "ns", F.pod("p", spec: ["priorityClassName": "batch"])).object
        #expect(pod[path: ["spec", "priority"]] == 100)
        #expect(pod[path: ["spec", "preemptionPolicy"]] == "Never")
        let critical = try await f.create("pods", "ns", F.pod("c", spec: ["priorityClassName": "system-node-critical"])).object
        #expect(critical[path: ["spec", "priority"]] == 2_000_001_000)
        let plain = try await f.create("pods", "ns", F.pod("plain")).object
        #expect(plain[path: ["spec", "priority"]] == 0)
        #expect(plain[path: ["spec", "priorityClassName"]] == nil)
        #expect(plain[path: ["spec", "preemptionPolicy"]] == "PreemptLowerPriority")
    }

    @Test func unknownClassesAndStatedPrioritiesAreRefused() async throws {
        let f = try await fixture()
        let unknown = await f.refusal("pods", "ns", F.pod("p", spec: ["priorityClassName": "nope"]))
        #expect(unknown?.code == 403)
        #expect(unknown?.message == "pods \"p\" is forbidden: no PriorityClass with name nope was found")
        let stated = await f.refusal("pods", "ns", F.pod("q", spec: ["priority": 5]))
        #expect(stated?.code == 403)
        #expect(stated?.message.contains("the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 0") == true)
        #expect(await f.refusal("pods", "ns", F.pod("r", spec: ["priority": 0])) == nil)
    }

    @Test func theGlobalDefaultAppliesAndIsUnique() async throws {
        let f = try await fixture()
        try await createClass(f, Self.priorityClass("normal", 10, globalDefault: true))
        let second = await refusal { () async throws(APIError) in try await createClass(f, Self.priorityClass("other", 20, globalDefault: true)) }
        #expect(second?.code == 403)
        #expect(second?.message == "priorityclasses.scheduling.k8s.io \"other\" is forbidden: PriorityClass normal is already marked as default. Only one default can exist")
        let pod = try await f.create("pods", "ns", F.pod("p")).object
        #expect(pod[path: ["spec", "priority"]] == 10)
        #expect(pod[path: ["spec", "priorityClassName"]] == "normal")
    }

    @Test func systemClassesExistAndCannotBeDeleted() async throws {
        let f = try await fixture()
        let pcs = try f.strategy("priorityclasses", group: "scheduling.k8s.io")
        let names = try await f.registry.listAll(pcs, namespace: nil).compactMap(\.name)
        #expect(names == ["system-cluster-critical", "system-node-critical"])
        let refused = await refusal { () async throws(APIError) in
            _ = try await f.registry.delete(pcs, version: "v1", namespace: nil, name: "system-node-critical", options: DeleteOptions())
        }
        #expect(refused?.code == 403)
        #expect(refused?.message.hasSuffix("this is a system priority class and cannot be deleted") == true)
    }
}
