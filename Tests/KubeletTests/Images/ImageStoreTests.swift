import Foundation
import Synchronization
import Testing
@testable import Kubelet

/// Pulls from a small registry on loopback (python, serving files the test wrote) that asks
/// for a bearer token, which its token endpoint gives only for the right basic credentials.
@Suite struct ImageStoreTests {
    static let registry = #"""
import http.server, socketserver, os, sys, base64
root = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        port = self.server.server_address[1]
        if self.path.startswith("/token"):
            good = "Basic " + base64.b64encode(b"alice:pw").decode()
            if self.headers.get("Authorization") != good: return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad login"}]}')
            return self.reply(200, b'{"token":"tok"}')
        if self.headers.get("Authorization") != "Bearer tok":
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                [("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:%d/token",service="test",scope="repository:demo:pull"' % port)])
        path = os.path.join(root, self.path.lstrip("/").replace(":", "_"))
        if not os.path.isfile(path):
            return self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
        body = open(path, "rb").read()
        types = [("Content-Type", open(path + ".type").read())] if os.path.exists(path + ".type") else []
        self.reply(200, body, types)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""#

    /// Writes a one-layer image (with a whiteout) into the registry's directory.
    static func writeImage(registryRoot: String, work: String) throws -> (manifest: String, layer: String) {
        let fm = FileManager.default
        let tree = work + "/tree"
        try fm.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try "hello\n".write(toFile: tree + "/etc/greeting", atomically: true, encoding: .utf8)
        try "".write(toFile: tree + "/etc/.wh.removed", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-czf", work + "/layer.tgz", "-C", tree, "."]
        try tar.run()
        tar.waitUntilExit()
        let layer = try Data(contentsOf: URL(fileURLWithPath: work + "/layer.tgz"))
        let config = Data(#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/app"],"Cmd":["--serve"],"Env":["PATH=/bin"]}}"#.utf8)
        let layerDigest = ContentStore.digest(of: layer), configDigest = ContentStore.digest(of: config)
        let manifest = Data("""
        {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(configDigest)","size":\(config.count)},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\(layerDigest)","size":\(layer.count)}]}
        """.utf8)
        let blobs = registryRoot + "/v2/demo/blobs", manifests = registryRoot + "/v2/demo/manifests"
        try fm.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        try layer.write(to: URL(fileURLWithPath: blobs + "/" + layerDigest.replacingOccurrences(of: ":", with: "_")))
        try config.write(to: URL(fileURLWithPath: blobs + "/" + configDigest.replacingOccurrences(of: ":", with: "_")))
        try manifest.write(to: URL(fileURLWithPath: manifests + "/1"))
        try MediaType.ociManifest.write(toFile: manifests + "/1.type", atomically: true, encoding: .utf8)
        return (ContentStore.digest(of: manifest), layerDigest)
    }

    @Test func pullsWithTokenAuthVerifiesAndUnpacks() async throws {
        let base = NSTemporaryDirectory() + "caravel-img-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let (manifestDigest, layerDigest) = try Self.writeImage(registryRoot: base + "/registry", work: base)
        let server = try await ProbeTestServer.start(python: Self.registry.replacingOccurrences(of: "sys.argv[1]", with: "'\(base)/registry'"))
        defer { server.stop() }
        let host = "127.0.0.1:\(server.port)"
        let store = ImageStore(root: base + "/images", hosts: RegistryHosts(insecure: [host]))

        let ref = try ImageReference(parsing: "\(host)/demo:1")
        await #expect(throws: ImageError.self) { try await store.pull(ref, credential: RegistryCredential(username: "alice", password: "wrong")) }
        let image = try await store.pull(ref, credential: RegistryCredential(username: "alice", password: "pw"))
        #expect(image.manifestDigest == manifestDigest)
        #expect(image.config.Entrypoint == ["/bin/app"] && image.config.Cmd == ["--serve"])
        #expect(await store.image(ref)?.layers == [layerDigest])
        let layerDir = store.content.layerPath(layerDigest)
        #expect((try? String(contentsOfFile: layerDir + "/etc/greeting", encoding: .utf8)) == "hello\n")
        #expect(store.unpacker.whiteouts(layerDigest).deleted == ["etc/removed"])
        #expect(!FileManager.default.fileExists(atPath: layerDir + "/etc/.wh.removed"))

        // A missing tag carries the registry's message.
        do {
            _ = try await store.pull(try ImageReference(parsing: "\(host)/demo:2"), credential: RegistryCredential(username: "alice", password: "pw"))
            Issue.record("pulling a missing tag succeeded")
        } catch let error as ImageError {
            guard case .notFound(let message) = error else { Issue.record("not a notFound: \(error)"); return }
            #expect(message.contains("MANIFEST_UNKNOWN: manifest unknown"))
        }

        // Removing the last reference removes the content.
        #expect(try await store.remove(ref))
        #expect(!store.content.hasBlob(layerDigest))
        #expect(!FileManager.default.fileExists(atPath: layerDir))
        await store.shutdown()
    }

    @Test func contentIsVerified() throws {
        let base = NSTemporaryDirectory() + "caravel-cs-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let store = ContentStore(root: base)
        let data = Data("blob".utf8)
        #expect(throws: ImageError.self) { try store.writeBlob(data, digest: "sha256:" + String(repeating: "0", count: 64)) }
        #expect(store.blobDigests().isEmpty)
        try store.writeBlob(data, digest: ContentStore.digest(of: data))
        #expect(try store.readBlob(ContentStore.digest(of: data)) == data)
        #expect(LayerUnpacker.compression(of: [0x28, 0xb5, 0x2f, 0xfd]) == .zstd)
        #expect(LayerUnpacker.compression(of: [0x1f, 0x8b, 8, 0]) == .gzip)
    }
}

@Suite struct ImageArchiveTests {
    /// A `docker save` directory with one image tagged `tag` running `cmd`.
    static func dockerSave(at archive: String, work: String, tag: String, cmd: String) throws {
        let fm = FileManager.default
        let tree = work + "/tree-" + UUID().uuidString.prefix(6)
        try fm.createDirectory(atPath: archive + "/layer1", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: tree + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: tree + "/bin/tool", atomically: true, encoding: .utf8)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-cf", archive + "/layer1/layer.tar", "-C", tree, "."]
        try tar.run()
        tar.waitUntilExit()
        try #"{"architecture":"amd64","os":"linux","config":{"Cmd":["\#(cmd)"]}}"#.write(toFile: archive + "/cfg.json", atomically: true, encoding: .utf8)
        try #"[{"Config":"cfg.json","RepoTags":["\#(tag)"],"Layers":["layer1/layer.tar"]}]"#
            .write(toFile: archive + "/manifest.json", atomically: true, encoding: .utf8)
    }

    @Test func importsADockerSaveArchive() async throws {
        let base = NSTemporaryDirectory() + "caravel-imp-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let fm = FileManager.default
        let archive = base + "/archive"
        try Self.dockerSave(at: archive, work: base, tag: "example.com/tools/tool:2", cmd: "/bin/tool")

        let store = ImageStore(root: base + "/images", hosts: RegistryHosts())
        let imported = try await store.importArchive(archive)
        #expect(imported.map(\.references) == [["example.com/tools/tool:2"]])
        let image = try #require(await store.image(try ImageReference(parsing: "example.com/tools/tool:2")))
        #expect(image.config.Cmd == ["/bin/tool"])
        let layer = try #require(image.layers.first)
        #expect(fm.fileExists(atPath: store.content.layerPath(layer) + "/bin/tool"))
        // Something that is neither layout is refused.
        try fm.createDirectory(atPath: base + "/empty", withIntermediateDirectories: true)
        await #expect(throws: ImageError.self) { try await store.importArchive(base + "/empty") }
        await store.shutdown()
    }
}

@Suite struct ImageGarbageCollectorTests {
    @Test func removesUnusedImagesAboveTheHighThreshold() async throws {
        let base = NSTemporaryDirectory() + "caravel-gc-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let store = ImageStore(root: base + "/images", hosts: RegistryHosts())
        for (i, tag) in ["example.com/a:1", "example.com/b:1"].enumerated() {
            try ImageArchiveTests.dockerSave(at: base + "/archive\(i)", work: base, tag: tag, cmd: "/bin/\(i)")
            _ = try await store.importArchive(base + "/archive\(i)")
        }
        let later: @Sendable () -> Date = { Date().addingTimeInterval(600) }
        let calm = ImageGarbageCollector(highThresholdPercent: 85, lowThresholdPercent: 80, usage: { _ in 50 }, now: later)
        #expect(await calm.collect(store, inUse: []).isEmpty)
        // Just pulled: younger than the minimum age, so spared even on a full disk.
        let fresh = ImageGarbageCollector(highThresholdPercent: 85, lowThresholdPercent: 80, usage: { _ in 95 })
        #expect(await fresh.collect(store, inUse: []).isEmpty)
        let full = ImageGarbageCollector(highThresholdPercent: 85, lowThresholdPercent: 80, usage: { _ in 95 }, now: later)
        #expect(await full.collect(store, inUse: ["example.com/b:1"]) == ["example.com/a:1"])
        #expect(await store.list().flatMap(\.references) == ["example.com/b:1"])
        // A container naming the image by digest keeps it too.
        let b = try #require(await store.list().first)
        #expect(await full.collect(store, inUse: ["example.com/b@\(b.manifestDigest)"]).isEmpty)
        await store.shutdown()
    }

    @Test func removesTheOldestPullsFirst() async throws {
        let base = NSTemporaryDirectory() + "caravel-gc-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let store = ImageStore(root: base + "/images", hosts: RegistryHosts())
        for (i, tag) in ["example.com/new:1", "example.com/old:1"].enumerated() {
            try ImageArchiveTests.dockerSave(at: base + "/archive\(i)", work: base, tag: tag, cmd: "/bin/\(i)")
            _ = try await store.importArchive(base + "/archive\(i)")
        }
        // Pull times as the index records them: "old" an hour before "new".
        let index = base + "/images/index.json"
        var images = try JSONDecoder().decode([StoredImage].self, from: Data(contentsOf: URL(fileURLWithPath: index)))
        for i in images.indices { images[i].pulledAt = Date(timeIntervalSinceNow: images[i].references == ["example.com/old:1"] ? -7200 : -3600) }
        try JSONEncoder().encode(images).write(to: URL(fileURLWithPath: index))
        // The disk is full while the old image is there.
        let gc = ImageGarbageCollector(highThresholdPercent: 85, lowThresholdPercent: 80, usage: { _ in
            let text = (try? String(contentsOfFile: index, encoding: .utf8)) ?? ""
            return text.contains("old:1") ? 95 : 70
        })
        let removed = await gc.collect(store, inUse: [])
        #expect(removed == ["example.com/old:1"])
        await store.shutdown()
    }

    @Test func periodicPassesRunAtStartAndStopWhenCancelled() async {
        let (passes, continuation) = AsyncStream.makeStream(of: Int.self)
        let count = PassCounter()
        let loop = Task {
            await ImageGarbageCollector.runPeriodically(every: .seconds(3600)) { continuation.yield(count.value(after: { $0 += 1 })) }
        }
        var iterator = passes.makeAsyncIterator()
        #expect(await iterator.next() == 1)
        loop.cancel()
        await loop.value
        #expect(count.value(after: { _ in }) == 1)
    }
}

/// A count shared with `@Sendable` closures.
final class PassCounter: Sendable {
    private let storage = Mutex(0)
    func value(after change: (inout Int) -> Void) -> Int { storage.withLock { change(&$0); return $0 } }
}

@Suite struct ImageLayoutImportTests {
    /// An OCI image layout whose one manifest is annotated with the bare tag `1` (as
    /// `skopeo copy … oci:DIR:1` writes it) and whose one layer is zstd-compressed, with a whiteout.
    static func zstdLayout(at layout: String, work: String) throws -> String {
        let fm = FileManager.default
        let tree = work + "/tree"
        try fm.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try "zstd\n".write(toFile: tree + "/etc/packed", atomically: true, encoding: .utf8)
        try "".write(toFile: tree + "/etc/.wh.gone", atomically: true, encoding: .utf8)
        try run("/usr/bin/tar", ["-cf", work + "/layer.tar", "-C", tree, "."])
        try run("/usr/bin/env", ["zstd", "-q", "-f", work + "/layer.tar", "-o", work + "/layer.tar.zst"])
        let layer = try Data(contentsOf: URL(fileURLWithPath: work + "/layer.tar.zst"))
        let config = Data(#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]}}"#.utf8)
        let manifest = Data("""
        {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(ContentStore.digest(of: config))","size":\(config.count)},
         "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"\(ContentStore.digest(of: layer))","size":\(layer.count)}]}
        """.utf8)
        let blobs = layout + "/blobs/sha256"
        try fm.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        for blob in [layer, config, manifest] {
            try blob.write(to: URL(fileURLWithPath: blobs + "/" + ContentStore.hex(ContentStore.digest(of: blob))))
        }
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: layout + "/oci-layout", atomically: true, encoding: .utf8)
        try """
        {"schemaVersion":2,"manifests":[{"mediaType":"\(MediaType.ociManifest)","digest":"\(ContentStore.digest(of: manifest))","size":\(manifest.count),
         "annotations":{"org.opencontainers.image.ref.name":"1"}}]}
        """.write(toFile: layout + "/index.json", atomically: true, encoding: .utf8)
        return ContentStore.digest(of: layer)
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ImageError.invalidContent("\(tool) \(arguments) exited \(process.terminationStatus)") }
    }

    @Test func importsALayoutWithABareTagAndAZstdLayer() async throws {
        let base = NSTemporaryDirectory() + "caravel-layout-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let layerDigest = try Self.zstdLayout(at: base + "/layout", work: base)
        let store = ImageStore(root: base + "/images", hosts: RegistryHosts())

        // A bare tag names no repository: refused without a base name, and nothing is stored.
        do {
            _ = try await store.importArchive(base + "/layout")
            Issue.record("a layout named only by a tag was imported without a base name")
        } catch let error as ImageError {
            #expect("\(error)".contains("needs a base name"))
        }
        #expect(await store.list().isEmpty)

        let imported = try await store.importArchive(base + "/layout", baseName: "registry.example/demo")
        #expect(imported.map(\.references) == [["registry.example/demo:1"]])
        let image = try #require(await store.image(try ImageReference(parsing: "registry.example/demo:1")))
        #expect(image.layers == [layerDigest])
        #expect(LayerUnpacker.compression(of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: store.content.blobPath(layerDigest))).prefix(4))) == .zstd)
        try await store.unpacker.unpack(layerDigest)
        let layerDir = store.content.layerPath(layerDigest)
        #expect((try? String(contentsOfFile: layerDir + "/etc/packed", encoding: .utf8)) == "zstd\n")
        #expect(store.unpacker.whiteouts(layerDigest).deleted == ["etc/gone"])
        await store.shutdown()
    }

    @Test func layoutNamesFollowTheAnnotations() {
        typealias S = ImageStore
        #expect(S.layoutImageName(["io.containerd.image.name": "docker.io/library/a:1", "org.opencontainers.image.ref.name": "1"], baseName: nil)
                == "docker.io/library/a:1")
        #expect(S.layoutImageName(["org.opencontainers.image.ref.name": "example.com/b:2"], baseName: "x") == "example.com/b:2")
        #expect(S.layoutImageName(["org.opencontainers.image.ref.name": "v1.2"], baseName: "example.com/c") == "example.com/c:v1.2")
        #expect(S.layoutImageName(["org.opencontainers.image.ref.name": "latest"], baseName: nil) == nil)
        #expect(S.layoutImageName(["org.opencontainers.image.ref.name": "bad tag"], baseName: "example.com/c") == nil)
        #expect(S.layoutImageName([:], baseName: "example.com/c") == nil)
    }
}
