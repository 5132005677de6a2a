import KubeClient

/// What the fake nodes of one `caravel kubelet --runtime fake --nodes N` share so that N in
/// the thousands start and run without flooding the API server (kwok's approach): one pod
/// watch for all, registrations and heartbeats through bounded gates (as kwok's lease and
/// heartbeat parallelism), heartbeats spread over their interval and woken together on the
/// ticks of one clock (`CoalescingClock`), and a node status written
/// only when it changes or `statusReportInterval` passes (the Lease is the heartbeat in
/// between, as with Kubernetes' node leases).
public struct FleetSharing: Sendable {
    /// Node registrations in flight at once: well under the server's mutating in-flight limit
    /// (200 by default), which the controllers and pod status writes share.
    public static let defaultRegistrationConcurrency = 32
    /// Lease renewals, and node status posts, in flight at once, over a client of their own
    /// with as many connections. A heartbeat waits its turn here rather than in a connection
    /// pool, where thousands of them time out together when the server is busy and come back
    /// as retries. Status posts have a gate of their own: the Lease keeps a node Ready, and a
    /// wave of status posts (nodes marked Unknown post again) must not hold it back. Together
    /// with the pods' 96 connections they stay under the server's 200 mutating requests in
    /// flight, beyond which it answers 429.
    public static let defaultLeaseConcurrency = 64
    public static let defaultStatusConcurrency = 16
    /// Connections of the heartbeat client: one per Lease renewal or status post in flight.
    public static let heartbeatConnections = defaultLeaseConcurrency + defaultStatusConcurrency
    /// kubelet's default `nodeStatusReportFrequency` is 5 min; fake nodes report every minute.
    public static let defaultStatusReportInterval: Duration = .seconds(60)
    /// The nodes' loops wake on ticks this far apart: a fifth of a second late at most, for
    /// loops of ten seconds; a hundred Lease renewals of a 5,000-node fleet each time.
    public static let defaultTick: Duration = .milliseconds(200)

    public let pods: NodePodFeed
    public let registrations: ConcurrencyGate
    public let leases: ConcurrencyGate
    public let statusPosts: ConcurrencyGate
    /// The client Leases and node status go through (nil: the pods' client).
    public let heartbeatClient: KubeRESTClient?
    /// The thread the nodes' heartbeats run on (nil: each node has one of its own).
    public let heartbeats: HeartbeatExecutor?
    public let statusReportInterval: Duration
    /// What the nodes' Lease, status and relist loops sleep on; `run()` drives it for the fleet.
    public let clock: CoalescingClock

    public init(pods: NodePodFeed, registrations: ConcurrencyGate = ConcurrencyGate(limit: defaultRegistrationConcurrency),
                leases: ConcurrencyGate = ConcurrencyGate(limit: defaultLeaseConcurrency),
                statusPosts: ConcurrencyGate = ConcurrencyGate(limit: defaultStatusConcurrency),
                heartbeatClient: KubeRESTClient? = nil, heartbeats: HeartbeatExecutor? = nil,
                statusReportInterval: Duration = defaultStatusReportInterval, clock: CoalescingClock = CoalescingClock(tick: defaultTick)) {
        self.pods = pods
        self.registrations = registrations
        self.leases = leases
        self.statusPosts = statusPosts
        self.heartbeatClient = heartbeatClient
        self.heartbeats = heartbeats
        self.statusReportInterval = statusReportInterval
        self.clock = clock
    }
}
