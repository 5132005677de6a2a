import Foundation
import Testing
@testable import APIServer
import KubeModel

/// The ServiceAccount admission plugin: account defaulting, refusal of unknown accounts,
/// lazy `default` account and root CA ConfigMap, and the token volume.
@Suite struct ServiceAccountAdmissionTests {
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    func registry(clock: @escaping @Sendable () -> Date = { Date() }) async throws -> (Registry, String) {
        let ca = NSTemporaryDirectory() + "sa-ca-\(UUID().uuidString).crt"
        try "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".write(toFile: ca, atomically: true, encoding: .utf8)
        let plugin = ServiceAccountAdmission(caCertificatePath: ca, randomSuffix: { "abcde" }, clock: clock)
        let r = Registry(store: try SQLiteStore(path: nil, historySize: 1000), catalog: ResourceCatalog(BuiltinResources.all),
                         admission: AdmissionChain([plugin]))
        try await APIServerBuilder.bootstrap(r)
        return (r, ca)
    }

    func create(_ r: Registry, _ plural: String, _ body: JSONValue, dryRun: Bool = false) async throws(APIError) -> JSONValue {
        guard let s = r.catalog.strategy(group: "", plural: plural) else { throw APIError.internalError("no \(plural)") }
        var o = WriteOptions()
        o.dryRun = dryRun
        return try await r.create(s, version: "v1", namespace: "default", body: body, options: o).object
    }

    func get(_ r: Registry, _ key: String) async throws -> JSONValue? { try await r.store.get(key: key)?.object }

    static func pod(_ name: String, spec extra: [String: JSONValue] = [:]) -> JSONValue {
        var spec: [String: JSONValue] = ["containers": [["name": "a", "image": "x"], ["name": "b", "image": "x"]],
                                         "initContainers": [["name": "i", "image": "x"]]]
        spec.merge(extra) { _, new in new }
        return ["metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    @Test func defaultsTheAccountAndMountsTheToken() async throws {
        let (r, _) = try await registry()
        let pod = try await create(r, "pods", Self.pod("p"))
        #expect(pod[path: ["spec", "serviceAccountName"]] == "default" && pod[path: ["spec", "serviceAccount"]] == "default")
        // Made lazily, since no controller runs here.
        #expect(try await get(r, "/registry/core/serviceaccounts/default/default") != nil)
        let cm = try #require(try await get(r, "/registry/core/configmaps/default/kube-root-ca.crt"))
        #expect(cm[path: ["data", "ca.crt"]]?.stringValue?.hasPrefix("-----BEGIN CERTIFICATE-----") == true)
        let volumes = pod[path: ["spec", "volumes"]]?.arrayValue ?? []
        #expect(volumes.count == 1 && volumes.first?["name"] == "kube-api-access-abcde")
        let sources = volumes.first?[path: ["projected", "sources"]]?.arrayValue ?? []
        #expect(sources.first?[path: ["serviceAccountToken", "expirationSeconds"]] == 3607)
        #expect(sources.first?[path: ["serviceAccountToken", "path"]] == "token")
        #expect(sources.dropFirst().first?[path: ["configMap", "name"]] == "kube-root-ca.crt")
        #expect(sources.last?[path: ["downwardAPI", "items"]]?.arrayValue?.first?[path: ["fieldRef", "fieldPath"]] == "metadata.namespace")
        for kind in ["containers", "initContainers"] {
            for c in pod[path: ["spec", kind]]?.arrayValue ?? [] {
                let mounts = c["volumeMounts"]?.arrayValue ?? []
                #expect(mounts == [["name": "kube-api-access-abcde", "readOnly": true, "mountPath": .string(Self.mountPath)]])
            }
        }
    }

    @Test func unknownAccountIsForbidden() async throws {
        let (r, _) = try await registry()
        do {
            _ = try await create(r, "pods", Self.pod("p", spec: ["serviceAccountName": "ghost"]))
            Issue.record("pod with a missing account admitted")
        } catch {
            #expect(error.code == 403)
            #expect(error.message.contains("error looking up service account default/ghost: serviceaccount \"ghost\" not found"))
        }
        _ = try await create(r, "serviceaccounts", ["metadata": ["name": "ghost"]])
        let pod = try await create(r, "pods", Self.pod("p", spec: ["serviceAccount": "ghost"]))
        #expect(pod[path: ["spec", "serviceAccountName"]] == "ghost")
    }

    @Test func automountOffAndExistingMounts() async throws {
        let (r, _) = try await registry()
        let off = try await create(r, "pods", Self.pod("off", spec: ["automountServiceAccountToken": false]))
        #expect(off[path: ["spec", "volumes"]] == nil)
        _ = try await create(r, "serviceaccounts", ["metadata": ["name": "quiet"], "automountServiceAccountToken": false])
        let quiet = try await create(r, "pods", Self.pod("quiet", spec: ["serviceAccountName": "quiet"]))
        #expect(quiet[path: ["spec", "volumes"]] == nil)
        // The pod's own setting wins over the account's.
        let on = try await create(r, "pods", Self.pod("on", spec: ["serviceAccountName": "quiet", "automountServiceAccountToken": true]))
        #expect(on[path: ["spec", "volumes"]]?.arrayValue?.count == 1)
        // A container mounting the path itself keeps its own mount.
        let own = try await create(r, "pods", Self.pod("own", spec: [
            "volumes": [["name": "mine", "emptyDir": [:]]],
            "containers": [["name": "a", "image": "x", "volumeMounts": [["name": "mine", "mountPath": .string(Self.mountPath)]]]],
            "initContainers": [],
        ]))
        #expect(own[path: ["spec", "volumes"]]?.arrayValue?.count == 1)
        #expect(own[path: ["spec", "containers"]]?.arrayValue?.first?["volumeMounts"]?.arrayValue?.count == 1)
    }

    @Test func dryRunCreatesNothing() async throws {
        let (r, _) = try await registry()
        let pod = try await create(r, "pods", Self.pod("p"), dryRun: true)
        #expect(pod[path: ["spec", "serviceAccountName"]] == "default")
        #expect(try await get(r, "/registry/core/serviceaccounts/default/default") == nil)
        #expect(try await get(r, "/registry/core/configmaps/default/kube-root-ca.crt") == nil)
    }

    /// A burst of pods checks the root CA ConfigMap once per namespace per recheck period, and
    /// the CA file is read once: a ConfigMap deleted meanwhile comes back with the first pod
    /// after the period, holding the CA the server started with.
    @Test func rootCAIsCheckedOncePerPeriodAndTheCAReadOnce() async throws {
        let now = Locked(Date(timeIntervalSince1970: 1_000_000))
        let (r, ca) = try await registry(clock: { now.value })
        let key = "/registry/core/configmaps/default/kube-root-ca.crt"
        _ = try await create(r, "pods", Self.pod("p1"))
        let first = try #require(try await get(r, key))
        try "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n".write(toFile: ca, atomically: true, encoding: .utf8)
        _ = try await r.store.delete(key: key) { _ in }

        now.value += ServiceAccountAdmission.rootCARecheck - 1
        _ = try await create(r, "pods", Self.pod("p2"))
        #expect(try await get(r, key) == nil)

        now.value += 2
        _ = try await create(r, "pods", Self.pod("p3"))
        let again = try #require(try await get(r, key))
        #expect(again["data"] == first["data"])
        #expect(again[path: ["data", "ca.crt"]]?.stringValue?.contains("AAAA") == true)
    }
}
