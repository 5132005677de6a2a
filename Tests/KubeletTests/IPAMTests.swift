import Testing
@testable import Kubelet

@Suite struct IPAMTests {
    @Test func parsesCIDRs() throws {
        let cidr = try #require(IPv4CIDR("10.244.1.0/24"))
        #expect(cidr.network == 0x0AF4_0100)
        #expect(cidr.prefixLength == 24)
        #expect(IPv4CIDR.format(cidr.gateway) == "10.244.1.1")
        #expect(IPv4CIDR.format(cidr.broadcast) == "10.244.1.255")
        #expect(cidr.description == "10.244.1.0/24")
        #expect(cidr.contains(0x0AF4_01FE))
        #expect(!cidr.contains(0x0AF4_0201))
        // Host bits are cleared.
        #expect(IPv4CIDR("10.244.1.77/24")?.description == "10.244.1.0/24")
        #expect(IPv4CIDR("10.0.0.0/8").map { IPv4CIDR.format($0.broadcast) } == "10.255.255.255")
        #expect(IPv4CIDR("0.0.0.0/0")?.mask == 0)
    }

    @Test(arguments: ["", "10.244.1.0", "10.244.1.0/33", "10.244.1.0/-1", "300.1.1.0/24", "abc/24",
                      "10.244.1/24", "10.244.1.0.0/24", "10.244.1.0/", "10.244.1.0/24/1", "fd00::/64", "1.2.3.+4/24"])
    func rejectsMalformedCIDRs(_ text: String) {
        #expect(IPv4CIDR(text) == nil)
    }

    @Test func rangesTooSmallForPodsAreRejected() throws {
        #expect(throws: IPAMError.self) { try IPAM(cidr: #require(IPv4CIDR("10.0.0.0/31"))) }
        #expect(throws: IPAMError.self) { try IPAM(cidr: #require(IPv4CIDR("10.0.0.4/32"))) }
    }

    @Test func skipsNetworkGatewayAndBroadcast() throws {
        var ipam = try IPAM(cidr: #require(IPv4CIDR("10.9.0.0/29")))
        #expect(ipam.capacity == 5)
        var handed: [String] = []
        for n in 0..<5 { handed.append(IPv4CIDR.format(try ipam.allocate(podUID: "pod-\(n)"))) }
        #expect(handed == ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"])
        #expect(throws: IPAMError.exhausted("10.9.0.0/29")) { try ipam.allocate(podUID: "one-too-many") }
    }

    @Test func allocationIsStablePerPod() throws {
        var ipam = try IPAM(cidr: #require(IPv4CIDR("10.9.0.0/24")))
        let first = try ipam.allocate(podUID: "a")
        #expect(try ipam.allocate(podUID: "a") == first)
        #expect(try ipam.allocate(podUID: "b") != first)
        #expect(ipam.reservedCount == 2)
    }

    @Test func releasedAddressesComeBackAfterTheRestAreUsed() throws {
        var ipam = try IPAM(cidr: #require(IPv4CIDR("10.9.0.0/30")))
        #expect(IPv4CIDR.format(try ipam.allocate(podUID: "a")) == "10.9.0.2")
        #expect(throws: IPAMError.self) { try ipam.allocate(podUID: "b") }
        ipam.release(podUID: "a")
        ipam.release(podUID: "a")
        #expect(IPv4CIDR.format(try ipam.allocate(podUID: "b")) == "10.9.0.2")
        #expect(ipam.owner(of: 0x0A09_0002) == "b")
    }

    @Test func roundRobinDoesNotReuseAJustFreedAddress() throws {
        var ipam = try IPAM(cidr: #require(IPv4CIDR("10.9.0.0/24")))
        let a = try ipam.allocate(podUID: "a")
        ipam.release(podUID: "a")
        #expect(try ipam.allocate(podUID: "b") != a)
    }

    @Test func replayedReservationsAreNeverHandedOut() throws {
        var ipam = try IPAM(cidr: #require(IPv4CIDR("10.9.0.0/29")))
        try ipam.reserve(try #require(IPv4CIDR.parseAddress("10.9.0.2")), podUID: "old-1")
        try ipam.reserve(try #require(IPv4CIDR.parseAddress("10.9.0.4")), podUID: "old-2")
        try ipam.reserve(try #require(IPv4CIDR.parseAddress("10.9.0.4")), podUID: "old-2")
        var fresh: Set<String> = []
        for n in 0..<3 { fresh.insert(IPv4CIDR.format(try ipam.allocate(podUID: "new-\(n)"))) }
        #expect(fresh == ["10.9.0.3", "10.9.0.5", "10.9.0.6"])
        #expect(throws: IPAMError.self) { try ipam.allocate(podUID: "new-3") }
    }

    @Test func reserveRejectsReservedAndForeignAddresses() throws {
        var ipam = try IPAM(cidr: #require(IPv4CIDR("10.9.0.0/24")))
        for text in ["10.9.0.0", "10.9.0.1", "10.9.0.255", "10.9.1.7"] {
            let address = try #require(IPv4CIDR.parseAddress(text))
            #expect(throws: IPAMError.unavailable(text)) { try ipam.reserve(address, podUID: "x") }
        }
        let taken = try #require(IPv4CIDR.parseAddress("10.9.0.9"))
        try ipam.reserve(taken, podUID: "x")
        #expect(throws: IPAMError.self) { try ipam.reserve(taken, podUID: "y") }
        #expect(ipam.address(of: "y") == nil)
    }
}
