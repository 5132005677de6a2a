/// What the fake nodes of one `caravel kubelet --runtime fake --nodes N` share so that N in
/// the thousands start and run without flooding the API server (kwok's approach): one pod
/// watch for all, registrations through a bounded gate, heartbeats spread over their interval,
/// and a node status written only when it changes or `statusReportInterval` passes (the Lease
/// is the heartbeat in between, as with Kubernetes' node leases).
public struct FleetSharing: Sendable {
    /// Node registrations in flight at once: well under the server's mutating in-flight limit
    /// (200 by default), which the controllers and pod status writes share.
    public static let defaultRegistrationConcurrency = 32
    /// kubelet's default `nodeStatusReportFrequency` is 5 min; fake nodes report every minute.
    public static let defaultStatusReportInterval: Duration = .seconds(60)

    public let pods: NodePodFeed
    public let registrations: ConcurrencyGate
    public let statusReportInterval: Duration

    public init(pods: NodePodFeed, registrations: ConcurrencyGate = ConcurrencyGate(limit: defaultRegistrationConcurrency),
                statusReportInterval: Duration = defaultStatusReportInterval) {
        self.pods = pods
        self.registrations = registrations
        self.statusReportInterval = statusReportInterval
    }
}
