import Testing
@testable import KubeModel

/// A tiny protobuf writer for building test bodies by hand.
private struct PB {
    var bytes: [UInt8] = []

    private static func varint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    func tag(_ field: Int, _ wire: Int) -> PB { PB(bytes: bytes + Self.varint(UInt64(field << 3 | wire))) }
    func int(_ field: Int, _ v: Int64) -> PB { PB(bytes: tag(field, 0).bytes + Self.varint(UInt64(bitPattern: v))) }
    func bool(_ field: Int, _ v: Bool) -> PB { int(field, v ? 1 : 0) }
    func raw(_ field: Int, _ b: [UInt8]) -> PB { PB(bytes: tag(field, 2).bytes + Self.varint(UInt64(b.count)) + b) }
    func string(_ field: Int, _ s: String) -> PB { raw(field, Array(s.utf8)) }
    func message(_ field: Int, _ m: PB) -> PB { raw(field, m.bytes) }
    func entry(_ field: Int, _ k: String, _ v: String) -> PB { message(field, PB().string(1, k).string(2, v)) }
    func entry(_ field: Int, _ k: String, bytes v: [UInt8]) -> PB { message(field, PB().string(1, k).raw(2, v)) }
    func entry(_ field: Int, _ k: String, _ v: PB) -> PB { message(field, PB().string(1, k).message(2, v)) }

    /// Magic + runtime.Unknown around an object.
    static func document(_ apiVersion: String, _ kind: String, _ object: PB) -> [UInt8] {
        KubeProtobuf.magic + PB().message(1, PB().string(1, apiVersion).string(2, kind)).message(2, object)
            .string(3, "").string(4, "").bytes
    }
}

/// ObjectMeta as Go writes it: every non-pointer field, zero or not.
private func meta(_ name: String, labels: [String: String] = [:], created: PB = PB()) -> PB {
    var m = PB().string(1, name).string(2, "").string(3, "").string(4, "").string(5, "").string(6, "").int(7, 0)
        .message(8, created)
    for (k, v) in labels.sorted(by: { $0.key < $1.key }) { m = m.entry(11, k, v) }
    return m
}

@Suite struct KubeProtobufTests {
    @Test func configMap() throws {
        let cm = PB().message(1, meta("x")).entry(2, "a", "b").entry(2, "empty", "").entry(3, "bin", bytes: [0, 1, 2])
        let v = try KubeProtobuf.decode(PB.document("v1", "ConfigMap", cm))
        #expect(v == [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "x"],
            "data": ["a": "b", "empty": ""], "binaryData": ["bin": "AAEC"],
        ])
    }

    @Test func secretBytesAreBase64() throws {
        let s = PB().message(1, meta("s")).entry(2, "p", bytes: Array("q".utf8)).string(3, "Opaque").bool(5, false)
        let v = try KubeProtobuf.decode(PB.document("v1", "Secret", s))
        #expect(v["data"] == ["p": "cQ=="])
        #expect(v["type"] == "Opaque")
        #expect(v["immutable"] == false)  // a pointer: an explicit false is kept
    }

    @Test func deploymentWithTemplate() throws {
        let container = PB().string(1, "nginx").string(2, "nginx:1.27").string(13, "").string(14, "").bool(16, false)
            .message(6, PB().string(1, "").int(2, 0).int(3, 80).string(4, "TCP").string(5, ""))
            .message(8, PB().entry(1, "cpu", PB().string(1, "500m")).entry(2, "memory", PB().string(1, "64Mi")))
        let podSpec = PB().message(2, container).string(3, "").bool(11, false)
            .message(1, PB().string(1, "cfg").message(2, PB().message(19, PB().message(1, PB().string(1, "cm")))))
        let template = PB().message(1, meta("", labels: ["app": "d"])).message(2, podSpec)
        let strategy = PB().string(1, "RollingUpdate")
            .message(2, PB().message(1, PB().int(1, 0).int(2, 0).string(3, "")).message(2, PB().int(1, 1).int(2, 0).string(3, "25%")))
        let spec = PB().int(1, 0).message(2, PB().entry(1, "app", "d")).message(3, template).message(4, strategy)
            .int(5, 0).bool(7, false)
        let d = PB().message(1, meta("d", labels: ["app": "d"])).message(2, spec).message(3, PB())
        let v = try KubeProtobuf.decode(PB.document("apps/v1", "Deployment", d))
        #expect(v["apiVersion"] == "apps/v1")
        #expect(v["kind"] == "Deployment")
        #expect(v["metadata"] == ["name": "d", "labels": ["app": "d"]])
        #expect(v["status"] == [:])
        #expect(v[path: ["spec", "replicas"]] == 0)  // pointer: zero is meaningful
        #expect(v[path: ["spec", "minReadySeconds"]] == nil)  // non-pointer zero: unset
        #expect(v[path: ["spec", "selector"]] == ["matchLabels": ["app": "d"]])
        #expect(v[path: ["spec", "strategy"]] == ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": "25%"]])
        let pod = try #require(v[path: ["spec", "template", "spec"]])
        #expect(pod == [
            "containers": [[
                "name": "nginx", "image": "nginx:1.27", "ports": [["containerPort": 80, "protocol": "TCP"]],
                "resources": ["limits": ["cpu": "500m"], "requests": ["memory": "64Mi"]],
            ]],
            // Volume.volumeSource and ConfigMapVolumeSource.localObjectReference are inline in JSON.
            "volumes": [["name": "cfg", "configMap": ["name": "cm"]]],
        ])
    }

    @Test func serviceIntOrString() throws {
        let port = PB().string(1, "80-8080").string(2, "TCP").int(3, 80).message(4, PB().int(1, 0).int(2, 8080).string(3, "")).int(5, 0)
        let unsetTarget = PB().int(3, 81).message(4, PB().int(1, 0).int(2, 0).string(3, ""))
        let svc = PB().message(1, meta("svc")).message(2, PB().message(1, port).message(1, unsetTarget).string(4, "ClusterIP"))
        let v = try KubeProtobuf.decode(PB.document("v1", "Service", svc))
        #expect(v[path: ["spec", "ports"]] == [
            ["name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080],
            ["port": 81],  // IntOrString zero on a non-pointer field means "unset", as in Go
        ])
        #expect(v[path: ["spec", "type"]] == "ClusterIP")
    }

    @Test func times() throws {
        let created = try KubeProtobuf.decode(PB.document("v1", "ConfigMap", PB().message(1, meta("t", created: PB().int(1, 1_700_000_000).int(2, 0)))))
        #expect(created[path: ["metadata", "creationTimestamp"]] == "2023-11-14T22:13:20Z")
        let lease = PB().message(1, meta("l")).message(2, PB().message(4, PB().int(1, 0).int(2, 123_456_789)).int(2, 15))
        let v = try KubeProtobuf.decode(PB.document("coordination.k8s.io/v1", "Lease", lease))
        #expect(v["spec"] == ["renewTime": "1970-01-01T00:00:00.123456Z", "leaseDurationSeconds": 15])
        #expect(try ProtobufDecoder.rfc3339(seconds: -1, nanos: nil) == "1969-12-31T23:59:59Z")
        #expect(try ProtobufDecoder.rfc3339(seconds: 951_782_400, nanos: nil) == "2000-02-29T00:00:00Z")
        #expect(throws: KubeProtobufError.self) { try ProtobufDecoder.rfc3339(seconds: Int64.max, nanos: nil) }
    }

    @Test(arguments: [
        (Int64(0), "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (1_000_000_000, "1s"),
        (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"), (3_723_500_000_000, "1h2m3.5s"), (-2_000_000_000, "-2s"),
        (Int64.min, "-2562047h47m16.854775808s"),
    ])
    func goDurations(_ ns: Int64, _ s: String) {
        #expect(ProtobufDecoder.goDuration(ns) == s)
    }

    @Test func metaKindsUnderAnyGroupAndRawExtension() throws {
        let opts = PB().string(4, "Foreground").raw(5, Array("All".utf8)).int(1, 0)
        let v = try KubeProtobuf.decode(PB.document("apps/v1", "DeleteOptions", opts))
        #expect(v == ["apiVersion": "apps/v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground", "dryRun": ["All"], "gracePeriodSeconds": 0])
        let list = PB().message(1, PB()).message(2, PB().raw(1, Array(#"{"kind":"Pod","apiVersion":"v1"}"#.utf8)))
            .message(2, PB().raw(1, PB.document("v1", "ConfigMap", PB().message(1, meta("n")))))
        let l = try KubeProtobuf.decode(PB.document("v1", "List", list))
        #expect(l["items"] == [["kind": "Pod", "apiVersion": "v1"], ["kind": "ConfigMap", "apiVersion": "v1", "metadata": ["name": "n"]]])
    }

    @Test func skipsUnknownFieldsAndAcceptsPacked() throws {
        // Unknown field 99 of every wire type, and a packed repeated int32 (none in k8s, but legal).
        let cm = PB().message(1, meta("x")).int(99, 7).raw(98, [1, 2, 3]).tag(97, 5).bytes + [1, 2, 3, 4]
        let v = try KubeProtobuf.decode(PB.document("v1", "ConfigMap", PB(bytes: cm)))
        #expect(v["metadata"] == ["name": "x"])
        let verbs = PB().string(1, "pods").message(4, PB().string(1, "get").string(1, "list"))
        let r = try KubeProtobuf.decode(PB.document("v1", "APIResourceList", PB().message(2, verbs)))
        #expect(r["resources"] == [["name": "pods", "verbs": ["get", "list"]]])
    }

    @Test func hostileInputThrows() {
        let good = PB.document("v1", "ConfigMap", PB().message(1, meta("x")).entry(2, "a", "b"))
        var cases: [[UInt8]] = [
            [], Array("k8s".utf8), Array(#"{"kind":"ConfigMap"}"#.utf8),  // no or bad magic
            KubeProtobuf.magic + [0x0a, 0x80],  // truncated varint
            KubeProtobuf.magic + [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f],  // huge length
            KubeProtobuf.magic + [0x08] + Array(repeating: 0xff, count: 10) + [0x01],  // varint over 10 bytes
            KubeProtobuf.magic + [0x00, 0x00],  // field number 0
            KubeProtobuf.magic + [0x0b],  // group
            PB.document("v1", "NoSuchKind", PB()), PB.document("nope/v1", "ConfigMap", PB()),
            PB.document("v1", "ConfigMap", PB().int(1, 5)),  // wrong wire type for a message
            PB.document("v1", "ConfigMap", PB().message(1, PB().message(8, PB().int(1, Int64.max)))),  // year out of range
            PB.document("v1", "Service", PB().message(2, PB().message(1, PB().message(4, PB().int(1, 7))))),  // bad IntOrString
            PB.document("v1", "List", PB().message(2, PB().raw(1, Array("{not json".utf8)))),
        ]
        cases.append(Array(good.dropLast()))
        // Deep nesting: Lists embedding Lists through RawExtension, far beyond the depth limit.
        var deep = PB.document("v1", "List", PB())
        for _ in 0..<200 { deep = PB.document("v1", "List", PB().message(2, PB().raw(1, deep))) }
        cases.append(deep)
        for c in cases {
            #expect(throws: KubeProtobufError.self) { try KubeProtobuf.decode(c) }
        }
    }

    /// Every truncation and many single-byte corruptions of a real body either decode or throw.
    @Test func corruptedBodiesNeverCrash() {
        let container = PB().string(1, "c").string(2, "img").message(8, PB().entry(1, "cpu", PB().string(1, "1")))
        let body = PB.document("apps/v1", "Deployment", PB().message(1, meta("d", labels: ["a": "b"]))
            .message(2, PB().int(1, 3).message(3, PB().message(2, PB().message(2, container)))))
        for n in 0..<body.count { _ = try? KubeProtobuf.decode(body.prefix(n)) }
        var seed: UInt64 = 42
        for _ in 0..<2000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var b = body
            b[Int(seed >> 33) % b.count] = UInt8(truncatingIfNeeded: seed >> 13)
            _ = try? KubeProtobuf.decode(b)
        }
    }
}

/// The bodies kubectl's typed clients send to certificates.k8s.io and authorization.k8s.io.
@Suite struct KubeProtobufReviewTests {
    @Test func certificateApproval() throws {
        let condition = PB().string(1, "Approved").string(2, "KubectlApprove").string(3, "ok").string(6, "True")
        let csr = PB().message(1, meta("node-csr").string(6, "42")).message(3, PB().message(1, condition).raw(2, [1, 2]))
        let v = try KubeProtobuf.decode(PB.document("certificates.k8s.io/v1", "CertificateSigningRequest", csr))
        #expect(v["apiVersion"] == "certificates.k8s.io/v1" && v["kind"] == "CertificateSigningRequest")
        #expect(v[path: ["metadata", "resourceVersion"]] == "42")
        #expect(v[path: ["status", "conditions"]] == [["type": "Approved", "reason": "KubectlApprove", "message": "ok", "status": "True"]])
        #expect(v[path: ["status", "certificate"]] == "AQI=")
    }

    @Test func selfSubjectAccessReview() throws {
        let attributes = PB().string(1, "default").string(2, "list").string(5, "pods")
        let review = PB().message(1, meta("")).message(2, PB().message(1, attributes)).message(3, PB())
        let v = try KubeProtobuf.decode(PB.document("authorization.k8s.io/v1", "SelfSubjectAccessReview", review))
        #expect(v["kind"] == "SelfSubjectAccessReview")
        #expect(v[path: ["spec", "resourceAttributes"]] == ["namespace": "default", "verb": "list", "resource": "pods"])
        #expect(v[path: ["spec", "nonResourceAttributes"]] == nil)
    }
}
