import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// Secrets and ConfigMaps held in memory: a data source for tests (changeable, for refresh).
actor DictObjectSource: ObjectSource {
    var secrets: [String: JSONValue] = [:]
    var configMaps: [String: JSONValue] = [:]
    var claims: [String: JSONValue] = [:]
    var volumes: [String: JSONValue] = [:]
    /// Services by namespace.
    var serviceLists: [String: [JSONValue]] = [:]

    init(secrets: [String: JSONValue] = [:], configMaps: [String: JSONValue] = [:]) {
        self.secrets = secrets
        self.configMaps = configMaps
    }

    func secret(namespace: String, name: String) async throws -> JSONValue? { secrets["\(namespace)/\(name)"] }
    func configMap(namespace: String, name: String) async throws -> JSONValue? { configMaps["\(namespace)/\(name)"] }
    func persistentVolumeClaim(namespace: String, name: String) async throws -> JSONValue? { claims["\(namespace)/\(name)"] }
    func persistentVolume(name: String) async throws -> JSONValue? { volumes[name] }
    func services(namespace: String) async throws -> [JSONValue] { serviceLists[namespace] ?? [] }
    func setServices(_ namespace: String, _ list: [JSONValue]) { serviceLists[namespace] = list }
    func setConfigMap(_ key: String, _ value: JSONValue) { configMaps[key] = value }
    func setClaim(_ key: String, _ value: JSONValue) { claims[key] = value }
    func setVolume(_ name: String, _ value: JSONValue) { volumes[name] = value }
    func removeVolume(_ name: String) { volumes[name] = nil }

    static func secret(_ data: [String: String]) -> JSONValue {
        .object(["data": .object(data.mapValues { .string(Data($0.utf8).base64EncodedString()) })])
    }
    static func configMap(_ data: [String: String], binary: [String: [UInt8]] = [:]) -> JSONValue {
        .object(["data": .object(data.mapValues { .string($0) }),
                 "binaryData": .object(binary.mapValues { .string(Data($0).base64EncodedString()) })])
    }
}

func envTestPod(volumes: [JSONValue] = [], containers: [JSONValue] = []) -> JSONValue {
    [
        "metadata": ["name": "web", "namespace": "ns", "uid": "uid-1",
                     "labels": ["app": "web", "tier": "front"], "annotations": ["note": "hi"]],
        "spec": ["nodeName": "node-a", "serviceAccountName": "sa", "volumes": .array(volumes),
                 "containers": .array(containers)],
        "status": ["podIPs": [["ip": "10.0.0.5"], ["ip": "fd00::5"]]],
    ]
}

func envTestContext(_ pod: JSONValue = envTestPod()) -> PodContext {
    PodContext(pod: pod, nodeName: "node-a", hostIP: "192.168.1.2", podIP: "10.0.0.5",
               nodeAllocatable: ["cpu": "4", "memory": "8Gi", "ephemeral-storage": "100Gi"])
}

private func env(_ container: JSONValue, source: any ObjectSource = DictObjectSource()) async throws -> [String: String] {
    let list = try await EnvResolver.resolve(container: container, context: envTestContext(), source: source)
    #expect(Set(list.map(\.name)).count == list.count, "names are unique")
    return Dictionary(list.map { ($0.name, $0.value) }, uniquingKeysWith: { _, b in b })
}

/// The message of the CreateContainerConfigError `body` throws (env and volume tests).
func configError(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
    } catch let e as ContainerStartError {
        #expect(e.reason == "CreateContainerConfigError")
        return e.message
    } catch {
        Issue.record("unexpected error \(error)")
    }
    return nil
}

@Test func envExpandFollowsKubernetesRules() {
    let vars = ["A": "x", "EMPTY": ""]
    #expect(EnvResolver.expand("$(A)-$(A)", env: vars) == "x-x")
    #expect(EnvResolver.expand("$$(A)", env: vars) == "$(A)")
    #expect(EnvResolver.expand("$$", env: vars) == "$")
    #expect(EnvResolver.expand("$(MISSING)", env: vars) == "$(MISSING)")
    #expect(EnvResolver.expand("a$(EMPTY)b", env: vars) == "ab")
    #expect(EnvResolver.expand("$(A", env: vars) == "$(A")
    #expect(EnvResolver.expand("$x $", env: vars) == "$x $")
    #expect(EnvResolver.expand("é$(A)ü", env: vars) == "éxü")
}

@Test func envLiteralValuesExpandAgainstEarlierVariables() async throws {
    let c: JSONValue = ["name": "app", "env": [
        ["name": "A", "value": "x"],
        ["name": "B", "value": "$(A)-$$(A)-$(C)"],
        ["name": "C", "value": "late"],
        ["name": "A", "value": "y"],
        ["name": "EMPTY"],
    ]]
    let list = try await EnvResolver.resolve(container: c, context: envTestContext(), source: DictObjectSource())
    #expect(list.map(\.name) == ["A", "B", "C", "EMPTY"])
    #expect(list.map(\.value) == ["y", "x-$(A)-$(C)", "late", ""])
}

@Test func envSecretAndConfigMapKeyRefs() async throws {
    let source = DictObjectSource(
        secrets: ["ns/db": DictObjectSource.secret(["password": "s3cret"])],
        configMaps: ["ns/cfg": DictObjectSource.configMap(["mode": "fast"])])
    let c: JSONValue = ["name": "app", "env": [
        ["name": "PW", "valueFrom": ["secretKeyRef": ["name": "db", "key": "password"]]],
        ["name": "MODE", "valueFrom": ["configMapKeyRef": ["name": "cfg", "key": "mode"]]],
        ["name": "OPT1", "valueFrom": ["secretKeyRef": ["name": "absent", "key": "k", "optional": true]]],
        ["name": "OPT2", "valueFrom": ["configMapKeyRef": ["name": "cfg", "key": "nokey", "optional": true]]],
        ["name": "OPT3", "valueFrom": ["secretKeyRef": ["name": "db", "key": "nokey", "optional": true]]],
        ["name": "NOEXPAND", "valueFrom": ["configMapKeyRef": ["name": "cfg", "key": "mode"]]],
    ]]
    let e = try await env(c, source: source)
    #expect(e == ["PW": "s3cret", "MODE": "fast", "NOEXPAND": "fast"])
}

@Test func envMissingReferencesFailWithKubernetesMessages() async {
    let source = DictObjectSource(
        secrets: ["ns/db": DictObjectSource.secret(["password": "x"])],
        configMaps: ["ns/cfg": DictObjectSource.configMap(["a": "b"])])
    func one(_ from: JSONValue) -> JSONValue { ["name": "app", "env": [["name": "V", "valueFrom": from]]] }
    #expect(await configError { _ = try await env(one(["secretKeyRef": ["name": "nope", "key": "k"]]), source: source) }
        == "secret \"nope\" not found")
    #expect(await configError { _ = try await env(one(["secretKeyRef": ["name": "db", "key": "k"]]), source: source) }
        == "couldn't find key k in Secret ns/db")
    #expect(await configError { _ = try await env(one(["configMapKeyRef": ["name": "nope", "key": "k"]]), source: source) }
        == "configmap \"nope\" not found")
    #expect(await configError { _ = try await env(one(["configMapKeyRef": ["name": "cfg", "key": "k"]]), source: source) }
        == "couldn't find key k in ConfigMap ns/cfg")
    #expect(await configError { _ = try await env(one(["fieldRef": ["fieldPath": "spec.bogus"]]), source: source) }
        == "unsupported fieldPath: spec.bogus")
    let envFrom: JSONValue = ["name": "app", "envFrom": [["secretRef": ["name": "gone"]]]]
    #expect(await configError { _ = try await env(envFrom, source: source) } == "secret \"gone\" not found")
}

@Test func envFieldRefs() async throws {
    func f(_ path: String) -> JSONValue { ["fieldRef": ["fieldPath": .string(path)]] }
    let paths = ["metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels['tier']",
                 "metadata.annotations['note']", "metadata.labels['none']", "spec.nodeName", "spec.serviceAccountName",
                 "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"]
    let c: JSONValue = ["name": "app", "env": .array(paths.enumerated().map { ["name": .string("V\($0.offset)"), "valueFrom": f($0.element)] })]
    let e = try await env(c)
    let want = ["web", "ns", "uid-1", "front", "hi", "", "node-a", "sa", "192.168.1.2", "192.168.1.2", "10.0.0.5", "10.0.0.5,fd00::5"]
    for (i, w) in want.enumerated() { #expect(e["V\(i)"] == w, "\(paths[i])") }
}

@Test func envResourceFieldRefsRoundUpByDivisor() async throws {
    func r(_ res: String, _ divisor: String? = nil, container: String? = nil) -> JSONValue {
        var ref: JSONValue = ["resource": .string(res)]
        if let divisor { ref["divisor"] = .string(divisor) }
        if let container { ref["containerName"] = .string(container) }
        return ["resourceFieldRef": ref]
    }
    let cases: [(JSONValue, String)] = [
        (r("limits.cpu"), "1"),  // 500m rounds up to one whole cpu
        (r("limits.cpu", "1m"), "500"),
        (r("limits.cpu", "300m"), "2"),
        (r("requests.cpu", "1m"), "250"),
        (r("limits.memory", "1Mi"), "128"),
        (r("limits.memory"), "134217728"),
        (r("requests.memory", "1Ki"), "1"),  // 1000 bytes → one KiB, rounded up
        (r("limits.ephemeral-storage", "1Gi"), "100"),  // unset: node allocatable
        (r("requests.ephemeral-storage"), "0"),
        (r("limits.cpu", "1m", container: "side"), "4000"),  // other container, no limit: allocatable
    ]
    let c: JSONValue = [
        "name": "app",
        "resources": ["limits": ["cpu": "500m", "memory": "128Mi"], "requests": ["cpu": "250m", "memory": 1000]],
        "env": .array(cases.enumerated().map { ["name": .string("V\($0.offset)"), "valueFrom": $0.element.0] }),
    ]
    var ctx = envTestContext(envTestPod(containers: [c, ["name": "side"]]))
    ctx.nodeAllocatable["memory"] = "8Gi"
    let list = try await EnvResolver.resolve(container: c, context: ctx, source: DictObjectSource())
    let e = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0.value) })
    for (i, want) in cases.map(\.1).enumerated() { #expect(e["V\(i)"] == want, "case \(i)") }
    let bad: JSONValue = ["name": "app", "env": [["name": "X", "valueFrom": r("limits.gpu")]]]
    #expect(await configError { _ = try await env(bad) } == "unsupported container resource : limits.gpu")
}

@Test func envFromWithPrefixOptionalAndPrecedence() async throws {
    let source = DictObjectSource(
        secrets: ["ns/s": DictObjectSource.secret(["USER": "admin", "SHARED": "from-secret"])],
        configMaps: ["ns/c": DictObjectSource.configMap(["SHARED": "from-cm", "LEVEL": "3", "bad=name": "x", "": "y"],
                                                        binary: ["BIN": [1, 2]])])
    let c: JSONValue = ["name": "app",
                        "envFrom": [["configMapRef": ["name": "c"]],
                                    ["secretRef": ["name": "s"], "prefix": "DB_"],
                                    ["secretRef": ["name": "s"]],
                                    ["configMapRef": ["name": "absent", "optional": true]]],
                        "env": [["name": "LEVEL", "value": "$(LEVEL)0"], ["name": "U", "value": "$(DB_USER)"]]]
    let list = try await EnvResolver.resolve(container: c, context: envTestContext(), source: source)
    let e = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0.value) })
    #expect(e == ["SHARED": "from-secret", "LEVEL": "30", "DB_USER": "admin", "DB_SHARED": "from-secret",
                  "USER": "admin", "U": "admin"])
    #expect(list.first?.name == "LEVEL", "envFrom keys come first, sorted within each source")
}
