import Testing
@testable import Kubelet

@Test func kubeletPathsLayout() {
    let p = KubeletPaths(root: "/r")
    #expect(p.containerDirectory(ContainerID(podUID: "u", name: "c", attempt: 2)) == "/r/pods/u/containers/c/2")
    #expect(p.containerLogPath(namespace: "ns", pod: "p", uid: "u", container: "c", attempt: 0) == "/r/logs/ns_p_u/c/0.log")
}
