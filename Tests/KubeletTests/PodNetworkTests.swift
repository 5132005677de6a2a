import Foundation
import Logging
import Testing
@testable import Kubelet

/// Real namespaces, veths and bridges: only as root with iproute2.
private let canIsolate = getuid() == 0 && PodNetworkCommand.find("ip") != nil

/// One node's pod network under a scratch root, with its own bridge and a random /24 so tests
/// running side by side never share a bridge or a route.
private struct NetworkFixture {
    let root: String
    let nodeName: String
    let cidr: String
    let paths: KubeletPaths

    init() {
        let tag = UUID().uuidString.lowercased().prefix(8)
        root = NSTemporaryDirectory() + "podnet-\(tag)"
        nodeName = "podnet-test-\(tag)"
        cidr = "10.\(Int.random(in: 150...199)).\(Int.random(in: 0...255)).0/24"
        paths = KubeletPaths(root: root)
    }

    var bridge: String { PodNetworkHost.bridgeName(rootDirectory: root, nodeName: nodeName) }

    func makeNetwork() async -> PodNetwork {
        let network = PodNetwork(paths: paths, nodeName: nodeName, logger: Logger(label: "test.podnetwork"))
        await network.configure(podCIDR: cidr)
        return network
    }

    /// Runs the body, then removes every pod, the bridge and the root even when it failed.
    static func with(_ body: (NetworkFixture) async throws -> Void) async throws {
        let fixture = NetworkFixture()
        var failure: (any Error)?
        do { try await body(fixture) } catch { failure = error }
        let network = await fixture.makeNetwork()
        let uids = (try? FileManager.default.contentsOfDirectory(atPath: fixture.paths.podsDirectory)) ?? []
        for uid in uids { await network.tearDown(podUID: uid) }
        _ = try? await sh("ip", "link", "del", "dev", fixture.bridge)
        _ = await ProxyHost.deleteTable(PodNetworkHost.natTableName(rootDirectory: fixture.root))
        try? FileManager.default.removeItem(atPath: fixture.root)
        if let failure { throw failure }
    }
}

@discardableResult
private func sh(_ program: String, _ arguments: String...) async throws -> CommandResult {
    let path = try #require(PodNetworkCommand.find(program), "\(program) not installed")
    return try await PodNetworkCommand.run(path, arguments, timeout: .seconds(15))
}

private func netnsName(_ status: SandboxStatus) throws -> String {
    try #require(status.networkNamespacePath.map { URL(fileURLWithPath: $0).lastPathComponent })
}

private func namespaces() async throws -> [String] {
    try await sh("ip", "netns", "list").stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
}

private func newUID() -> String { UUID().uuidString.lowercased() }

/// `python3 -m http.server` inside the namespace (or on the host when nil); stopped by its PID.
private func startServer(netns: String?, port: Int = 8080, directory: String) throws -> Process {
    let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : PodNetworkCommand.find("python3")
    let server = [try #require(python, "python3 not installed"), "-m", "http.server", "\(port)", "--bind", "0.0.0.0", "--directory", directory]
    let process = Process()
    if let netns {
        process.executableURL = URL(fileURLWithPath: try #require(PodNetworkCommand.find("ip")))
        process.arguments = ["netns", "exec", netns] + server
    } else {
        process.executableURL = URL(fileURLWithPath: server[0])
        process.arguments = Array(server.dropFirst())
    }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

private func stop(_ process: Process) {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
}

/// HTTP status from `url`, fetched from the host or from inside `netns`; retried until 200 or
/// the deadline, as the server needs a moment to bind.
private func fetch(_ url: String, from netns: String? = nil) async throws -> String {
    let curl = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", url]
    var code = ""
    for _ in 0..<40 {
        let result = if let netns {
            try await PodNetworkCommand.run(try #require(PodNetworkCommand.find("ip")), ["netns", "exec", netns] + curl)
        } else {
            try await PodNetworkCommand.run(try #require(PodNetworkCommand.find("curl")), Array(curl.dropFirst()))
        }
        code = result.stdout
        if code == "200" { return code }
        try await Task.sleep(for: .milliseconds(250))
    }
    return code
}

@Suite struct PodNetworkTests {
    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func twoPodsGetTheirOwnIPsAndBothListenOn8080() async throws {
        try await NetworkFixture.with { fixture in
            let network = await fixture.makeNetwork()
            #expect(await network.isolated)
            let cidr = try #require(IPv4CIDR(fixture.cidr))
            let a = try await network.setUp(podUID: newUID())
            let b = try await network.setUp(podUID: newUID())
            #expect(a.podIP != b.podIP)
            for status in [a, b] {
                let address = try #require(IPv4CIDR.parseAddress(status.podIP))
                #expect(cidr.contains(address) && address != cidr.gateway && address != cidr.broadcast)
                #expect(FileManager.default.fileExists(atPath: try #require(status.networkNamespacePath)))
            }
            // The node's own address is never the pod bridge's.
            #expect(await network.hostIP() != IPv4CIDR.format(cidr.gateway))

            let hostPort = Int.random(in: 20000...29999)
            let servers = try [startServer(netns: netnsName(a), directory: fixture.root),
                               startServer(netns: netnsName(b), directory: fixture.root),
                               startServer(netns: nil, port: hostPort, directory: fixture.root)]
            defer { servers.forEach(stop) }
            #expect(try await fetch("http://\(a.podIP):8080/") == "200")
            #expect(try await fetch("http://\(b.podIP):8080/") == "200")
            let running = servers.prefix(2).map(\.isRunning)
            #expect(running == [true, true], "both bind 0.0.0.0:8080, each in its own namespace")
            // Pod to pod across the bridge.
            #expect(try await fetch("http://\(b.podIP):8080/", from: netnsName(a)) == "200")
            // Each namespace has lo up and a default route through the gateway.
            #expect(try await fetch("http://127.0.0.1:8080/", from: netnsName(a)) == "200")
            // Out through the gateway to the node's own address.
            #expect(try await fetch("http://\(await network.hostIP()):\(hostPort)/", from: netnsName(a)) == "200")
            let routes = try await sh("ip", "-n", netnsName(a), "route", "show", "default").stdout
            #expect(routes.contains("via \(IPv4CIDR.format(cidr.gateway))"))
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func podsOnTwoNodesOfOneMachineReachEachOther() async throws {
        try await NetworkFixture.with { one in
            try await NetworkFixture.with { two in
                let a = try await one.makeNetwork().setUp(podUID: newUID())
                let b = try await two.makeNetwork().setUp(podUID: newUID())
                let server = try startServer(netns: netnsName(b), directory: two.root)
                defer { stop(server) }
                #expect(try await fetch("http://\(b.podIP):8080/", from: netnsName(a)) == "200")
            }
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func aRestartedKubeletFindsItsPods() async throws {
        try await NetworkFixture.with { fixture in
            let uid = newUID()
            let first = try await fixture.makeNetwork().setUp(podUID: uid)
            let saved = try #require(FileManager.default.contents(atPath: fixture.paths.sandboxFile(uid)))
            let record = try JSONDecoder().decode(PodNetworkRecord.self, from: saved)
            #expect(record == PodNetworkRecord(podUID: uid, ip: first.podIP, netns: try netnsName(first),
                                               hostVeth: PodNetworkHost.hostVethName(podUID: uid)))

            let restarted = await fixture.makeNetwork()
            #expect(await restarted.reservedIP(for: uid) == first.podIP, "table rebuilt from sandbox files")
            let again = try await restarted.setUp(podUID: uid)
            #expect(again == first)
            #expect(try await namespaces().filter { $0 == (try netnsName(first)) }.count == 1)
            let other = try await restarted.setUp(podUID: newUID())
            #expect(other.podIP != first.podIP)
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func aLostNamespaceIsRebuiltWithTheSameIP() async throws {
        try await NetworkFixture.with { fixture in
            let uid = newUID()
            let network = await fixture.makeNetwork()
            let first = try await network.setUp(podUID: uid)
            // As after a host reboot: the plumbing is gone, the sandbox file is not.
            try await sh("ip", "link", "del", "dev", PodNetworkHost.hostVethName(podUID: uid))
            try await sh("ip", "netns", "del", netnsName(first))
            let rebuilt = try await fixture.makeNetwork().setUp(podUID: uid)
            #expect(rebuilt == first)
            let address = try await sh("ip", "-n", netnsName(rebuilt), "-4", "-o", "addr", "show", "dev", "eth0").stdout
            #expect(address.contains(" \(first.podIP)/24 "))
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func aFailedSetUpThrowsTheCommandAndLeavesNothingBehind() async throws {
        try await NetworkFixture.with { fixture in
            let network = await fixture.makeNetwork()
            _ = try await network.setUp(podUID: newUID())
            try await sh("ip", "link", "del", "dev", fixture.bridge)
            let uid = newUID()
            let error = try await #require(throws: PodNetworkError.self) { try await network.setUp(podUID: uid) }
            #expect(error.description.contains("link set dev \(PodNetworkHost.hostVethName(podUID: uid)) master"))
            #expect(error.description.contains(fixture.bridge))
            #expect(try await !namespaces().contains(PodNetworkHost.netnsName(podUID: uid)))
            #expect(!FileManager.default.fileExists(atPath: fixture.paths.sandboxFile(uid)))
            #expect(await network.reservedIP(for: uid) == nil)
            // The next attempt recreates the bridge.
            let status = try await network.setUp(podUID: uid)
            #expect(try await namespaces().contains(netnsName(status)))
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func leftoversWithoutASandboxFileAreReplaced() async throws {
        try await NetworkFixture.with { fixture in
            let uid = newUID()
            let stale = PodNetworkHost.netnsName(podUID: uid)
            try await sh("ip", "netns", "add", stale)
            let status = try await fixture.makeNetwork().setUp(podUID: uid)
            #expect(try netnsName(status) == stale)
            let address = try await sh("ip", "-n", stale, "-4", "-o", "addr", "show", "dev", "eth0").stdout
            #expect(address.contains(" \(status.podIP)/24 "))
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func concurrentSetUpsOfOnePodMakeOneNamespace() async throws {
        try await NetworkFixture.with { fixture in
            let network = await fixture.makeNetwork()
            let uid = newUID()
            async let x = network.setUp(podUID: uid)
            async let y = network.setUp(podUID: uid)
            async let z = network.setUp(podUID: uid)
            let results = try await [x, y, z]
            #expect(Set(results.map(\.podIP)).count == 1)
            #expect(try await namespaces().filter { $0 == (try netnsName(results[0])) }.count == 1)
        }
    }

    @Test(.enabled(if: canIsolate, "needs root and the ip command (iproute2)"))
    func tearDownRemovesNamespaceVethAndReservation() async throws {
        try await NetworkFixture.with { fixture in
            let network = await fixture.makeNetwork()
            let uid = newUID()
            let status = try await network.setUp(podUID: uid)
            let veth = PodNetworkHost.hostVethName(podUID: uid)
            #expect(try await sh("ip", "link", "show", "dev", veth).status == 0)

            await network.tearDown(podUID: uid)
            #expect(try await !namespaces().contains(netnsName(status)))
            #expect(try await sh("ip", "link", "show", "dev", veth).status != 0)
            #expect(!FileManager.default.fileExists(atPath: fixture.paths.sandboxFile(uid)))
            #expect(await network.reservedIP(for: uid) == nil)
            await network.tearDown(podUID: uid)
            await network.tearDown(podUID: newUID())
            // A fresh kubelet does not count the torn-down pod either.
            #expect(await fixture.makeNetwork().reservedIP(for: uid) == nil)
        }
    }

    @Test func withoutAPodCIDRPodsShareTheHostNetwork() async throws {
        let root = NSTemporaryDirectory() + "podnet-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let network = PodNetwork(paths: KubeletPaths(root: root), nodeName: "host-net", logger: Logger(label: "test"))
        await network.configure(podCIDR: nil)
        #expect(await !network.isolated)
        let status = try await network.setUp(podUID: newUID())
        #expect(status == SandboxStatus(podIP: await network.hostIP(), networkNamespacePath: nil))
        #expect(IPv4CIDR.parseAddress(status.podIP) != nil)
        await network.configure(podCIDR: "not-a-cidr")
        #expect(await !network.isolated)
    }

    @Test func interfaceNamesFitIFNAMSIZ() {
        let bridge = PodNetworkHost.bridgeName(rootDirectory: "/var/lib/caravel", nodeName: String(repeating: "n", count: 253))
        let veth = PodNetworkHost.hostVethName(podUID: newUID())
        #expect(bridge.count <= 15 && bridge.hasPrefix("cvl"))
        #expect(veth.count <= 15 && veth.hasPrefix("cv"))
        #expect(PodNetworkHost.bridgeName(rootDirectory: "/d", nodeName: "a") != PodNetworkHost.bridgeName(rootDirectory: "/d", nodeName: "b"))
        // Two servers with the same node name (different data directories) get their own bridges.
        #expect(PodNetworkHost.bridgeName(rootDirectory: "/d1/kubelet", nodeName: "a") != PodNetworkHost.bridgeName(rootDirectory: "/d2/kubelet", nodeName: "a"))
        #expect(PodNetworkHost.netnsName(podUID: "0123456789ab-rest") == "cvl-0123456789ab")
        #expect(PodNetworkHost.netnsName(podUID: "../evil") == "cvl----evil")
    }
}
