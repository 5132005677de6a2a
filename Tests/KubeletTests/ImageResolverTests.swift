import Foundation
import Testing
@testable import Kubelet

@Suite struct ImageResolverTests {
    @Test func programNameFromImage() {
        #expect(ImageResolver.programName(image: "docker.io/library/busybox:1.36") == "busybox")
        #expect(ImageResolver.programName(image: "caravel/demo-app:1.0") == "demo-app")
        #expect(ImageResolver.programName(image: "localhost:5000/team/tool@sha256:abcd") == "tool")
        #expect(ImageResolver.programName(image: "nginx") == "nginx")
        #expect(ImageResolver.programName(image: "registry:5000/app:v1@sha256:ff") == "app")
    }

    @Test func lookupOrder() throws {
        let base = NSTemporaryDirectory() + "caravel-ir-" + UUID().uuidString.prefix(8)
        let images = base + "/images", exeDir = base + "/bin", pathDir = base + "/path"
        let fm = FileManager.default
        defer { try? fm.removeItem(atPath: base) }
        for dir in [images, exeDir, pathDir] { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        func program(_ path: String) { _ = fm.createFile(atPath: path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]) }
        program(pathDir + "/tool")
        program(exeDir + "/tool")
        program(exeDir + "/demo-app")
        program(images + "/demo-app")
        program(pathDir + "/only-in-path")
        let resolver = ImageResolver(imagesDirectory: images, executableDirectory: exeDir, searchPath: pathDir)

        #expect(try resolver.resolve(image: "caravel/demo-app:1.0", command: [], args: ["--port", "8080"])
                == [images + "/demo-app", "--port", "8080"])
        #expect(try resolver.resolve(image: "x/tool:2", command: [], args: []) == [exeDir + "/tool"])
        #expect(try resolver.resolve(image: "only-in-path", command: [], args: []) == [pathDir + "/only-in-path"])
        // A command wins over the image and is searched in PATH; args follow it.
        #expect(try resolver.resolve(image: "caravel/demo-app", command: ["tool", "-v"], args: ["a"]) == [pathDir + "/tool", "-v", "a"])
        #expect(try resolver.resolve(image: "busybox", command: ["/bin/sh", "-c"], args: ["true"]) == ["/bin/sh", "-c", "true"])

        do {
            _ = try resolver.resolve(image: "docker.io/library/busybox:1.36", command: [], args: [])
            Issue.record("expected ErrImagePull")
        } catch let error as ContainerStartError {
            #expect(error.reason == "ErrImagePull")
            #expect(error.message.contains("\"busybox\""))
        }
        #expect(throws: ContainerStartError.self) { try resolver.resolve(image: "x", command: ["nope"], args: []) }
        // A directory with the program's name is not a program.
        try fm.createDirectory(atPath: images + "/dir-app", withIntermediateDirectories: true)
        #expect(throws: ContainerStartError.self) { try resolver.resolve(image: "dir-app", command: [], args: []) }
    }
}
