import Testing
import KubeModel
@testable import KubeClient

@Suite struct WatchDecodingTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    private func strings(_ lines: [[UInt8]]) -> [String] { lines.map { String(decoding: $0, as: UTF8.self) } }

    @Test func linesSplitAcrossChunks() throws {
        var s = LineSplitter()
        #expect(try s.feed(bytes("{\"a\":")) == [])
        #expect(strings(try s.feed(bytes("1}\n{\"b\""))) == ["{\"a\":1}"])
        #expect(strings(try s.feed(bytes(":2}\n{\"c\":3}\n"))) == ["{\"b\":2}", "{\"c\":3}"])
        #expect(s.finish() == nil)
    }

    @Test func crlfEmptyLinesAndUnterminatedTail() throws {
        var s = LineSplitter()
        #expect(strings(try s.feed(bytes("one\r\n\n\r\ntwo\r"))) == ["one"])
        #expect(strings(try s.feed(bytes("\nthree"))) == ["two"])
        #expect(s.finish().map { String(decoding: $0, as: UTF8.self) } == "three")
        #expect(s.finish() == nil)
    }

    @Test func byteAtATime() throws {
        var s = LineSplitter()
        var out: [String] = []
        for b in bytes("ab\ncd\n\nef\n") { out += strings(try s.feed([b])) }
        #expect(out == ["ab", "cd", "ef"])
    }

    @Test func runawayLineIsRefused() throws {
        var s = LineSplitter(maxLineBytes: 8)
        _ = try s.feed(bytes("12345"))
        #expect(throws: WatchDecodingError.self) { try s.feed(bytes("6789")) }
    }

    @Test func decodesEvents() throws {
        let e = try WatchEvent.decode(line: bytes(#"{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"x"}}}"#))
        #expect(e.type == "ADDED")
        #expect(e.object.name == "x")
        #expect(e.apiError == nil)

        let gone = try WatchEvent.decode(line: bytes(
            #"{"type":"ERROR","object":{"kind":"Status","status":"Failure","reason":"Expired","code":410,"message":"too old"}}"#))
        #expect(gone.apiError == KubeAPIError(code: 410, reason: "Expired", message: "too old", status: gone.object))
        #expect(gone.apiError?.isGone == true)

        #expect(throws: WatchDecodingError("watch event has no type")) { try WatchEvent.decode(line: bytes(#"{"object":{}}"#)) }
        #expect(throws: WatchDecodingError("watch event ADDED has no object")) { try WatchEvent.decode(line: bytes(#"{"type":"ADDED"}"#)) }
        #expect(throws: WatchDecodingError.self) { try WatchEvent.decode(line: bytes("not json")) }
    }

    @Test func apiErrorFromBodies() {
        let status = #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404}"#
        let e = KubeAPIError(httpCode: 404, httpReason: "Not Found", body: bytes(status))
        #expect(e.code == 404 && e.reason == "NotFound" && e.message == "configmaps \"x\" not found")
        #expect(e.status?["details"]?["name"] == "x")
        #expect(e.isNotFound)

        let plain = KubeAPIError(httpCode: 503, httpReason: "Service Unavailable", body: bytes("overloaded"))
        #expect(plain == KubeAPIError(code: 503, reason: "ServiceUnavailable", message: "overloaded", status: nil))
        #expect(KubeAPIError(httpCode: 500, httpReason: "Internal Server Error", body: []).message == "Internal Server Error")
    }

    @Test func resourcePaths() {
        #expect(ResourcePath.core("configmaps", namespace: "ns", name: "cm").path == "/api/v1/namespaces/ns/configmaps/cm")
        #expect(ResourcePath.core("namespaces").path == "/api/v1/namespaces")
        #expect(ResourcePath.core("namespaces", name: "ns").path == "/api/v1/namespaces/ns")
        let deploys = ResourcePath(group: "apps", version: "v1", plural: "deployments")
        #expect(deploys.path == "/apis/apps/v1/deployments")
        var scale = deploys.inNamespace("prod").named("web")
        scale.subresource = "scale"
        #expect(scale.path == "/apis/apps/v1/namespaces/prod/deployments/web/scale")
        #expect(ResourcePath.core("clusterroles", name: "system:a/b").path == "/api/v1/clusterroles/system%3Aa%2Fb")
    }
}
