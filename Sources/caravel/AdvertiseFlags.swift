import APIServer
import ArgumentParser
import Kubelet

/// How an API server announces itself to the others on one store: the address the
/// `kubernetes` Service's endpoints list for it, and how long its identity Lease lives.
struct AdvertiseFlags: ParsableArguments {
    @Option(help: "IPv4 address the kubernetes Service's endpoints list for this API server (default: the bind address if specific, else 127.0.0.1).")
    var advertiseAddress: String?

    @Option(help: "How long this API server's identity Lease lives without renewal before the other API servers drop it from the kubernetes endpoints (renewed every third of it).")
    var endpointLeaseDuration: Duration = .seconds(15)

    func validate() throws {
        if let advertiseAddress {
            guard let cidr = IPv4CIDR(advertiseAddress + "/32"), cidr.prefixLength == 32, advertiseAddress != "0.0.0.0" else {
                throw ValidationError("--advertise-address must be a specific IPv4 address, got \"\(advertiseAddress)\"")
            }
        }
        guard endpointLeaseDuration >= .seconds(3) else { throw ValidationError("--endpoint-lease-duration must be at least 3s") }
    }

    func apply(to config: inout APIServerConfiguration) {
        config.advertiseAddress = advertiseAddress
        config.endpointLeaseDuration = endpointLeaseDuration
    }
}
