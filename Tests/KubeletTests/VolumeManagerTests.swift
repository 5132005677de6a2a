#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeModel
import Logging
import Testing
@testable import Kubelet

/// A kubelet root in a fresh temporary directory, removed (after unmounting) at the end.
private func withRoot(_ body: (KubeletPaths) async throws -> Void) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-vol-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer {
        Tmpfs.unmountAll(under: root)
        try? FileManager.default.removeItem(atPath: root)
    }
    try await body(KubeletPaths(root: root))
}

private func manager(_ paths: KubeletPaths, _ source: any ObjectSource) -> VolumeManager {
    VolumeManager(paths: paths, source: source, logger: Logger(label: "test"))
}

private func read(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

private func mode(_ path: String) -> UInt32 {
    var st = stat()
    guard stat(path, &st) == 0 else { return 0xFFFF }
    return UInt32(st.st_mode & 0o7777)
}

private func mounted(_ path: String) -> Bool {
    // Not String(contentsOfFile:): it stops at the first 4 KiB of a /proc file.
    let text = Tmpfs.readProcFile("/proc/self/mounts") ?? ""
    return text.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
}

@Test func volumeSecretItemsModesAndTmpfs() async throws {
    try await withRoot { paths in
        let source = DictObjectSource(secrets: ["ns/creds": DictObjectSource.secret(["user": "admin", "pass": "pw"])])
        let volumes: [JSONValue] = [
            ["name": "all", "secret": ["secretName": "creds"]],
            ["name": "picked", "secret": ["secretName": "creds", "defaultMode": 0o440,
                                          "items": [["key": "pass", "path": "sub/password", "mode": 0o400],
                                                    ["key": "user", "path": "username"]]]],
            ["name": "opt", "secret": ["secretName": "absent", "optional": true]],
        ]
        let vm = manager(paths, source)
        let out = try await vm.prepare(envTestContext(envTestPod(volumes: volumes)))
        let all = paths.volumeDirectory("uid-1", volume: "all")
        let picked = paths.volumeDirectory("uid-1", volume: "picked")
        #expect(out["all"] == all && out["picked"] == picked)
        #expect(read(all + "/user") == "admin" && read(all + "/pass") == "pw")
        #expect(mode(all + "/user") == 0o644)
        #expect(read(picked + "/sub/password") == "pw" && mode(picked + "/sub/password") == 0o400)
        #expect(read(picked + "/username") == "admin" && mode(picked + "/username") == 0o440)
        #expect(read(picked + "/user") == nil, "items select keys")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: picked + "/sub") == "..data/sub")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out["opt"] ?? "").filter { !$0.hasPrefix("..") }.isEmpty)
        #expect(mounted(all) == (geteuid() == 0), "secrets on tmpfs as root only")

        // Idempotent: a second prepare changes nothing.
        let before = try FileManager.default.destinationOfSymbolicLink(atPath: all + "/..data")
        _ = try await vm.prepare(envTestContext(envTestPod(volumes: volumes)))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: all + "/..data") == before)

        await vm.cleanup(podUID: "uid-1")
        #expect(!mounted(all) && !mounted(picked))
        #expect(!FileManager.default.fileExists(atPath: paths.volumesDirectory("uid-1")))
    }
}

@Test func volumeMissingSecretOrKeyIsAConfigError() async throws {
    try await withRoot { paths in
        let source = DictObjectSource(configMaps: ["ns/cfg": DictObjectSource.configMap(["a": "1"])])
        let vm = manager(paths, source)
        let missing = envTestPod(volumes: [["name": "s", "secret": ["secretName": "nope"]]])
        #expect(await configError { _ = try await vm.prepare(envTestContext(missing)) } == "secret \"nope\" not found")
        let key = envTestPod(volumes: [["name": "c", "configMap": ["name": "cfg", "items": [["key": "zz", "path": "zz"]]]]])
        #expect(await configError { _ = try await vm.prepare(envTestContext(key)) } == "configmap references non-existent config key: zz")
        let nfs = envTestPod(volumes: [["name": "data", "nfs": ["server": "nas", "path": "/export"]]])
        #expect(await configError { _ = try await vm.prepare(envTestContext(nfs)) } == "volume type nfs is not supported by caravel")
        let escape = envTestPod(volumes: [["name": "c", "configMap": ["name": "cfg", "items": [["key": "a", "path": "../x"]]]]])
        #expect(await configError { _ = try await vm.prepare(envTestContext(escape)) } != nil)
        await vm.cleanup(podUID: "uid-1")
    }
}

@Test func volumeConfigMapRefreshSwitchesDataAtomically() async throws {
    try await withRoot { paths in
        let source = DictObjectSource(configMaps: ["ns/cfg": DictObjectSource.configMap(["app.conf": "v1", "old": "x"], binary: ["b.bin": [0, 1, 2]])])
        let vm = manager(paths, source)
        let ctx = envTestContext(envTestPod(volumes: [["name": "cfg", "configMap": ["name": "cfg"]]]))
        let dir = try #require(try await vm.prepare(ctx)["cfg"])
        let first = try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/..data")
        #expect(first.hasPrefix("..") && first != "..data")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/app.conf") == "..data/app.conf")
        #expect(read(dir + "/app.conf") == "v1")
        #expect(FileManager.default.contents(atPath: dir + "/b.bin").map(Array.init) == [0, 1, 2])
        #expect(!mounted(dir), "configMaps are not memory-backed")

        await vm.refresh(ctx)  // unchanged: no new directory
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/..data") == first)

        await source.setConfigMap("ns/cfg", DictObjectSource.configMap(["app.conf": "v2", "new": "n"]))
        await vm.refresh(ctx)
        let second = try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/..data")
        #expect(second != first)
        #expect(read(dir + "/app.conf") == "v2" && read(dir + "/new") == "n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + first), "the previous timestamped dir is removed")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/old")) == nil, "removed keys disappear")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["..data", second, "app.conf", "new"].sorted())

        // A vanished object leaves the content as it was.
        await vm.refresh(envTestContext(envTestPod(volumes: [["name": "cfg", "configMap": ["name": "gone"]]])))
        #expect(read(dir + "/app.conf") == "v2")
        await vm.cleanup(podUID: "uid-1")
    }
}

@Test func volumeDownwardAPIAndProjected() async throws {
    try await withRoot { paths in
        let source = DictObjectSource(secrets: ["ns/s": DictObjectSource.secret(["token": "t"])],
                                      configMaps: ["ns/c": DictObjectSource.configMap(["k": "v"])])
        var pod = envTestPod(volumes: [
            ["name": "info", "downwardAPI": ["items": [
                ["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]],
                ["path": "note", "fieldRef": ["fieldPath": "metadata.annotations['note']"]],
                ["path": "mem", "resourceFieldRef": ["containerName": "app", "resource": "limits.memory", "divisor": "1Mi"]],
            ]]],
            ["name": "all", "projected": ["defaultMode": 0o400, "sources": [
                ["secret": ["name": "s"]],
                ["configMap": ["name": "c", "items": [["key": "k", "path": "conf/k"]]]],
                ["downwardAPI": ["items": [["path": "name", "fieldRef": ["fieldPath": "metadata.name"]]]]],
                ["serviceAccountToken": ["path": "sa-token"]],
            ]]],
        ], containers: [["name": "app", "resources": ["limits": ["memory": "64Mi"]]]])
        pod[path: ["metadata", "labels"]] = ["b": "2", "a": "say \"hi\"\n"]
        let vm = manager(paths, source)
        let out = try await vm.prepare(envTestContext(pod))
        let info = try #require(out["info"])
        #expect(read(info + "/labels") == "a=\"say \\\"hi\\\"\\n\"\nb=\"2\"")
        #expect(read(info + "/note") == "hi" && read(info + "/mem") == "64")
        let all = try #require(out["all"])
        #expect(read(all + "/token") == "t" && read(all + "/conf/k") == "v" && read(all + "/name") == "web")
        #expect(mode(all + "/token") == 0o400)
        #expect(!FileManager.default.fileExists(atPath: all + "/sa-token"), "serviceAccountToken is skipped")
        #expect(mounted(all) == (geteuid() == 0))
        await vm.cleanup(podUID: "uid-1")
        #expect(!mounted(all))
    }
}

@Test func volumeEmptyDirAndMemoryMedium() async throws {
    try await withRoot { paths in
        let vm = manager(paths, DictObjectSource())
        let pod = envTestPod(volumes: [["name": "scratch", "emptyDir": [:]],
                                    ["name": "ram", "emptyDir": ["medium": "Memory", "sizeLimit": "16Mi"]]])
        let out = try await vm.prepare(envTestContext(pod))
        let scratch = try #require(out["scratch"]), ram = try #require(out["ram"])
        #expect(mode(scratch) == 0o777)
        #expect(FileManager.default.createFile(atPath: scratch + "/f", contents: Data("x".utf8)))
        #expect(!mounted(scratch))
        #expect(mounted(ram) == (geteuid() == 0))
        _ = try await vm.prepare(envTestContext(pod))  // no second tmpfs on top
        let count = (Tmpfs.readProcFile("/proc/self/mounts") ?? "").components(separatedBy: " \(ram) ").count - 1
        #expect(count == (geteuid() == 0 ? 1 : 0))
        await vm.cleanup(podUID: "uid-1")
        #expect(!mounted(ram) && !FileManager.default.fileExists(atPath: scratch))
    }
}

@Test func volumeHostPathTypes() async throws {
    try await withRoot { paths in
        let host = paths.root + "/host"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: host + "/file", contents: Data("f".utf8)))
        let vm = manager(paths, DictObjectSource())
        func prep(_ path: String, _ type: String) async throws -> String? {
            try await vm.prepare(envTestContext(envTestPod(volumes: [["name": "h", "hostPath": ["path": .string(path), "type": .string(type)]]])))["h"]
        }
        #expect(try await prep(host + "/made/deep", "DirectoryOrCreate") == host + "/made/deep")
        #expect(HostPath.fileType(host + "/made/deep") == S_IFDIR)
        #expect(try await prep(host + "/new.txt", "FileOrCreate") == host + "/new.txt")
        #expect(HostPath.fileType(host + "/new.txt") == S_IFREG && mode(host + "/new.txt") == 0o644)
        #expect(try await prep(host, "Directory") == host)
        #expect(try await prep(host + "/file", "File") == host + "/file")
        #expect(try await prep(host + "/whatever", "") == host + "/whatever")
        #expect(try await prep("/dev/null", "CharDevice") == "/dev/null")
        #expect(await configError { _ = try await prep(host + "/file", "Directory") } == "hostPath type check failed: \(host)/file is not a directory")
        #expect(await configError { _ = try await prep(host, "File") } == "hostPath type check failed: \(host) is not a file")
        #expect(await configError { _ = try await prep(host + "/nope", "Directory") } != nil)
        #expect(await configError { _ = try await prep(host + "/file", "DirectoryOrCreate") } != nil)
        #expect(await configError { _ = try await prep(host + "/no/parent.txt", "FileOrCreate") } != nil)
        #expect(await configError { _ = try await prep(host + "/file", "Socket") } == "hostPath type check failed: \(host)/file is not a socket file")
        #expect(await configError { _ = try await prep("/dev/null", "BlockDevice") } == "hostPath type check failed: /dev/null is not a block device")
        #expect(await configError { _ = try await prep(host, "Weird") } != nil)
        await vm.cleanup(podUID: "uid-1")
        #expect(read(host + "/file") == "f" && HostPath.fileType(host + "/made/deep") == S_IFDIR, "cleanup never touches hostPath")
    }
}

@Test func volumeMountsSubPathAndReadOnly() async throws {
    try await withRoot { paths in
        let source = DictObjectSource(secrets: ["ns/s": DictObjectSource.secret(["key": "v"])])
        let vm = manager(paths, source)
        let pod = envTestPod(volumes: [["name": "data", "emptyDir": [:]], ["name": "sec", "secret": ["secretName": "s"]]])
        let volumes = try await vm.prepare(envTestContext(pod))
        let data = try #require(volumes["data"]), sec = try #require(volumes["sec"])
        let c: JSONValue = ["name": "app", "volumeMounts": [
            ["name": "data", "mountPath": "/data"],
            ["name": "data", "mountPath": "/logs", "subPath": "logs/app", "readOnly": true],
            ["name": "data", "mountPath": "/per-pod", "subPathExpr": "pods/$(POD)"],
            ["name": "sec", "mountPath": "/etc/secret"],
            ["name": "sec", "mountPath": "/etc/key", "subPath": "key"],
        ]]
        let mounts = try VolumeManager.mounts(for: c, volumes: volumes, env: ["POD": "web"])
        #expect(mounts == [
            Mount(hostPath: data, containerPath: "/data", readOnly: false),
            Mount(hostPath: data + "/logs/app", containerPath: "/logs", readOnly: true),
            Mount(hostPath: data + "/pods/web", containerPath: "/per-pod", readOnly: false),
            Mount(hostPath: sec, containerPath: "/etc/secret", readOnly: true),
            Mount(hostPath: sec + "/key", containerPath: "/etc/key", readOnly: true),
        ])
        #expect(HostPath.fileType(data + "/logs/app") == S_IFDIR, "a missing subPath is created")
        func mountsOf(_ vm: JSONValue) async -> String? {
            await configError { _ = try VolumeManager.mounts(for: ["name": "app", "volumeMounts": [vm]], volumes: volumes) }
        }
        #expect(await mountsOf(["name": "nope", "mountPath": "/x"]) == "cannot find volume \"nope\" to mount into container \"app\"")
        #expect(await mountsOf(["name": "data", "mountPath": "/x", "subPath": "../etc"]) != nil)
        #expect(await mountsOf(["name": "data", "mountPath": "/x", "subPath": "/etc"]) != nil)
        try FileManager.default.createSymbolicLink(atPath: data + "/out", withDestinationPath: "/etc")
        #expect(await mountsOf(["name": "data", "mountPath": "/x", "subPath": "out"]) != nil, "symlink escaping the volume")
        await vm.cleanup(podUID: "uid-1")
    }
}
