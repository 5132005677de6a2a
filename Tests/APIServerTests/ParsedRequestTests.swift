import HTTPTypes
import Hummingbird
import NIOCore
import Testing
@testable import APIServer

@Suite struct ParsedRequestTests {
    func parsed(_ method: HTTPRequest.Method, _ path: String) -> ParsedRequest {
        ParsedRequest(Request(head: HTTPRequest(method: method, scheme: nil, authority: nil, path: path), body: .init(buffer: ByteBuffer())))
    }

    @Test func watchesAreGetsWithTheParameterOrTheLegacyPath() {
        #expect(parsed(.get, "/api/v1/pods?watch=true").isWatch)
        #expect(parsed(.get, "/api/v1/watch/namespaces/a/pods").isWatch)
        #expect(parsed(.get, "/api/v1/pods?watch=1&resourceVersion=5").isWatch)
        #expect(!parsed(.get, "/api/v1/pods?watch=false").isWatch)
        #expect(!parsed(.post, "/api/v1/namespaces/a/pods?watch=true").isWatch)
        // A malformed value is no watch here; the responder refuses it with 400.
        #expect(!parsed(.get, "/api/v1/pods?watch=maybe").isWatch)
    }

    @Test func resourcePathsAreParsedOnce() {
        let p = parsed(.put, "/apis/apps/v1/namespaces/a/deployments/d/scale?dryRun=All")
        #expect(p.path == "/apis/apps/v1/namespaces/a/deployments/d/scale")
        #expect(p.info == RequestInfo(group: "apps", version: "v1", namespace: "a", resource: "deployments", name: "d", subresource: "scale"))
        #expect(p.query["dryRun"] == "All")
        #expect(parsed(.get, "/healthz").info == nil)
        #expect(parsed(.get, "/apis/apps/v1").info == nil)
    }
}
