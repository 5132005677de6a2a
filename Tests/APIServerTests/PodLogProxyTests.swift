import KubeModel
import Testing
@testable import APIServer

private func pod(_ containers: [String], inits: [String] = []) -> JSONValue {
    ["spec": ["containers": .array(containers.map { ["name": .string($0)] }),
              "initContainers": .array(inits.map { ["name": .string($0)] })]]
}

@Test func podLogContainerDefaultsToTheOnlyOne() throws {
    #expect(try KubeletTarget.containerName(pod(["c"]), name: "p", requested: nil) == "c")
    #expect(try KubeletTarget.containerName(pod(["a", "b"], inits: ["i"]), name: "p", requested: "i") == "i")
    #expect(throws: APIError.self) { try KubeletTarget.containerName(pod(["c"]), name: "p", requested: "x") }
    do {
        _ = try KubeletTarget.containerName(pod(["a", "b"], inits: ["i"]), name: "p", requested: nil)
        Issue.record("no error")
    } catch let e as APIError {
        #expect(e.code == 400)
        #expect(e.message == "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]")
    }
}

@Test func podLogForwardsOnlyKubeletParameters() {
    let q = KubeletTarget.forward("container=c&follow=true&tailLines=5&sinceTime=2024-01-01T00%3A00%3A00Z&pretty=1",
                                  keys: PodLogProxy.forwarded)
    #expect(q == "follow=true&tailLines=5&sinceTime=2024-01-01T00%3A00%3A00Z")
    #expect(KubeletTarget.forward(nil, keys: PodLogProxy.forwarded) == "")
    #expect(KubeletTarget.escape("a b/c") == "a%20b%2Fc")
    #expect(KubeletTarget(node: "n", host: "::1", port: 10250).authority == "[::1]:10250")
}
