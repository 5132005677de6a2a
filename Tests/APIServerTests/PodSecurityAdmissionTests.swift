import Foundation
import Testing
@testable import APIServer
import KubeModel

/// A registry with the admission plugins of this suite's concern and helpers to create objects.
struct AdmissionFixture {
    let registry: Registry

    init(_ plugins: [any AdmissionPlugin]) throws {
        registry = Registry(store: try SQLiteStore(path: nil, historySize: 1000), catalog: ResourceCatalog(BuiltinResources.all),
                            admission: AdmissionChain(plugins))
    }

    func strategy(_ plural: String, group: String = "") throws -> any ResourceStrategy {
        guard let s = registry.catalog.strategy(group: group, plural: plural) else { throw APIError.internalError("\(plural) not served") }
        return s
    }

    @discardableResult
    func namespace(_ name: String, labels: [String: String] = [:]) async throws -> WriteResult {
        let l = JSONValue.object(labels.mapValues { .string($0) })
        return try await registry.create(try strategy("namespaces"), version: "v1", namespace: nil,
                                         body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name), "labels": l]],
                                         options: WriteOptions())
    }

    @discardableResult
    func create(_ plural: String, _ ns: String, _ body: JSONValue, group: String = "", version: String = "v1") async throws(APIError) -> WriteResult {
        let s: any ResourceStrategy
        do { s = try strategy(plural, group: group) } catch { throw APIError.internalError("\(plural)") }
        return try await registry.create(s, version: version, namespace: ns, body: body, options: WriteOptions())
    }

    /// The error a create answers, or nil when it succeeds.
    func refusal(_ plural: String, _ ns: String, _ body: JSONValue) async -> APIError? {
        do { try await create(plural, ns, body); return nil } catch { return error }
    }

    static func pod(_ name: String, containers: [JSONValue] = [["name": "c", "image": "busybox"]], spec: JSONValue = [:]) -> JSONValue {
        var s = spec
        s["containers"] = .array(containers)
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": s]
    }
}

@Suite struct PodSecurityAdmissionTests {
    typealias C = PodSecurityChecks

    static let compliantSC: JSONValue = [
        "allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": ["drop": ["ALL"]],
        "seccompProfile": ["type": "RuntimeDefault"],
    ]

    func message(_ spec: JSONValue, _ level: C.Level, metadata: JSONValue? = nil) -> String? {
        PodSecurityAdmission.message(spec: spec, metadata: metadata, level: level, prefix: "violates")
    }

    func container(_ sc: JSONValue? = nil, name: String = "c", extra: JSONValue = [:]) -> JSONValue {
        var c = extra
        c["name"] = .string(name)
        c["image"] = "busybox"
        if let sc { c["securityContext"] = sc }
        return c
    }

    @Test func restrictedRootPodNamesEveryRule() {
        let spec: JSONValue = ["containers": [container()]]
        #expect(message(spec, .restricted) == "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")")
        #expect(message(spec, .baseline) == nil)
        #expect(message(spec, .privileged) == nil)
        #expect(message(["containers": [container(Self.compliantSC)]], .restricted) == nil)
    }

    @Test func podLevelSettingsSatisfyContainers() {
        let spec: JSONValue = [
            "securityContext": ["runAsNonRoot": true, "seccompProfile": ["type": "Localhost", "localhostProfile": "p.json"]],
            "containers": [container(["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"], "add": ["NET_BIND_SERVICE"]]])],
        ]
        #expect(message(spec, .restricted) == nil)
    }

    @Test func restrictedExplicitViolations() {
        var sc = Self.compliantSC
        sc["runAsNonRoot"] = false
        sc["runAsUser"] = 0
        sc["seccompProfile"] = ["type": "Unconfined"]
        sc["capabilities"] = ["drop": ["ALL"], "add": ["SYS_ADMIN"]]
        let spec: JSONValue = ["containers": [container(sc), container(Self.compliantSC, name: "d")],
                               "volumes": [["name": "host", "hostPath": ["path": "/"]], ["name": "cfg", "configMap": ["name": "x"]]]]
        #expect(message(spec, .restricted) == "violates PodSecurity \"restricted:latest\": unrestricted capabilities (container \"c\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add), restricted volume types (volume \"host\" uses restricted volume type \"hostPath\"), runAsNonRoot != true (container \"c\" must not set securityContext.runAsNonRoot=false), runAsUser=0 (container \"c\" must not set runAsUser=0), seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")")
    }

    @Test func baselineChecks() {
        let host: JSONValue = ["hostNetwork": true, "hostPID": true, "containers": [container()]]
        #expect(message(host, .baseline) == "violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true, hostPID=true)")
        let priv: JSONValue = ["containers": [container(["privileged": true]), container(["privileged": true], name: "d")]]
        #expect(message(priv, .baseline) == "violates PodSecurity \"baseline:latest\": privileged (containers \"c\", \"d\" must not set securityContext.privileged=true)")
        let caps: JSONValue = ["containers": [container(["capabilities": ["add": ["NET_ADMIN", "CHOWN"]]])]]
        #expect(message(caps, .baseline) == "violates PodSecurity \"baseline:latest\": non-default capabilities (container \"c\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)")
        let hostPath: JSONValue = ["containers": [container()], "volumes": [["name": "h", "hostPath": ["path": "/etc"]]]]
        #expect(message(hostPath, .baseline) == "violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"h\")")
        let ports: JSONValue = ["containers": [container(extra: ["ports": [["containerPort": 80, "hostPort": 8080]]])]]
        #expect(message(ports, .baseline) == "violates PodSecurity \"baseline:latest\": hostPort (container \"c\" uses hostPort 8080)")
        let proc: JSONValue = ["containers": [container(["procMount": "Unmasked"])]]
        #expect(message(proc, .baseline) == "violates PodSecurity \"baseline:latest\": procMount (container \"c\" must not set securityContext.procMount to \"Unmasked\")")
        let seccomp: JSONValue = ["securityContext": ["seccompProfile": ["type": "Unconfined"]], "containers": [container()]]
        #expect(message(seccomp, .baseline) == "violates PodSecurity \"baseline:latest\": seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")")
        let sysctls: JSONValue = ["securityContext": ["sysctls": [["name": "kernel.msgmax", "value": "1"], ["name": "net.ipv4.tcp_syncookies", "value": "1"]]],
                                  "containers": [container()]]
        #expect(message(sysctls, .baseline) == "violates PodSecurity \"baseline:latest\": forbidden sysctls (kernel.msgmax)")
        let selinux: JSONValue = ["containers": [container(["seLinuxOptions": ["type": "spc_t"]])]]
        #expect(message(selinux, .baseline) == "violates PodSecurity \"baseline:latest\": seLinuxOptions (container \"c\" set forbidden securityContext.seLinuxOptions: type \"spc_t\")")
        #expect(message(["containers": [container(["seLinuxOptions": ["type": "container_t"]])]], .baseline) == nil)
        let apparmor: JSONValue = ["containers": [container(["appArmorProfile": ["type": "Unconfined"]])]]
        #expect(message(apparmor, .baseline) == "violates PodSecurity \"baseline:latest\": forbidden AppArmor profiles (container \"c\" must not set securityContext.appArmorProfile.type to \"Unconfined\")")
        #expect(message(["containers": [container()]], .baseline,
                        metadata: ["annotations": ["container.apparmor.security.beta.kubernetes.io/c": "unconfined"]]) != nil)
        #expect(message(["containers": [container(["capabilities": ["add": ["CHOWN"]]])]], .baseline) == nil)
    }

    @Test func policyFromLabels() {
        let p = PodSecurityAdmission.Policy(labels: ["pod-security.kubernetes.io/enforce": "baseline",
                                                     "pod-security.kubernetes.io/enforce-version": "v1.30",
                                                     "pod-security.kubernetes.io/warn": "bogus"])
        #expect(p == PodSecurityAdmission.Policy(enforce: .baseline, warn: .restricted, audit: .privileged))
    }

    @Test func enforceRefusesWith403AndWarnWarns() async throws {
        let f = try AdmissionFixture([PodSecurityAdmission()])
        try await f.namespace("locked", labels: ["pod-security.kubernetes.io/enforce": "restricted"])
        let err = await f.refusal("pods", "locked", AdmissionFixture.pod("root"))
        #expect(err?.code == 403 && err?.reason == "Forbidden")
        #expect(err?.message.hasPrefix("pods \"root\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false") == true)
        let ok = try await f.create("pods", "locked", AdmissionFixture.pod("ok", containers: [container(Self.compliantSC)]))
        #expect(ok.code == 201 && ok.warnings.isEmpty)

        try await f.namespace("warned", labels: ["pod-security.kubernetes.io/warn": "baseline"])
        let warned = try await f.create("pods", "warned", AdmissionFixture.pod("p", spec: ["hostNetwork": true]))
        #expect(warned.code == 201)
        #expect(warned.warnings == ["would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"])

        // Workloads are only warned about, at the enforce level too.
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": ["selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]],
        ]
        let d = try await f.create("deployments", "locked", deployment, group: "apps")
        #expect(d.code == 201 && d.warnings.first?.hasPrefix("would violate PodSecurity \"restricted:latest\":") == true)

        try await f.namespace("open")
        #expect(try await f.create("pods", "open", AdmissionFixture.pod("p", spec: ["hostPID": true])).warnings.isEmpty)
    }
}
