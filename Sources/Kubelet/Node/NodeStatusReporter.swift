import Foundation
import KubeClient
import KubeModel
import Logging

/// The kubelet's node status manager: registers the Node (or adopts an existing one of that
/// name), then posts its status every `statusInterval`. Each post reads the stored Node first
/// so a condition's transition time is kept while its status holds, and only the heartbeat
/// and fields that changed are written. A Node deleted under a running kubelet is registered
/// again, as Kubernetes' kubelet does.
public actor NodeStatusReporter {
    static let nodes = ResourcePath.core("nodes")
    public static let kubeletVersion = "v1.33.0+caravel"

    public nonisolated let nodeName: String
    let client: KubeRESTClient
    let runtimeName: String
    let kubeletPort: Int
    let hostIP: String
    let capacity: NodeCapacity
    let extraLabels: [String: String]
    /// Annotations the kubelet keeps on its Node (the local-path directory).
    let annotations: [String: String]
    let logger: Logger
    let statusInterval: Duration
    let pressure: @Sendable () -> NodePressure
    /// When a check writes (every check unless a report interval is set).
    private var schedule: StatusReportSchedule
    /// The runtime's images for `status.images` (runtimes that pull); nil lists none.
    private var images: (@Sendable () async -> [NodeImage])?
    /// The registered Node's UID (for the Lease's ownerReference); nil before `register()`.
    public private(set) var nodeUID: String?

    /// `statusInterval` is 10 s in Kubernetes; `rootDirectory` is the kubelet's directory,
    /// whose filesystem DiskPressure watches; `pressure` replaces the host probe (fake nodes
    /// pass `{ NodePressure() }` so that the host's state does not taint all of them).
    /// `reportInterval`: when set, a check whose conditions did not change writes nothing
    /// until that long after the last write (Kubernetes' `nodeStatusReportFrequency`, 5 min).
    public init(client: KubeRESTClient, nodeName: String, runtimeName: String, kubeletPort: Int, hostIP: String,
                capacity: NodeCapacity, labels: [String: String] = [:], annotations: [String: String] = [:], logger: Logger,
                statusInterval: Duration = .seconds(10), reportInterval: Duration? = nil, rootDirectory: String = "/",
                pressure: (@Sendable () -> NodePressure)? = nil) {
        self.schedule = StatusReportSchedule(reportInterval: reportInterval)
        self.client = client
        self.nodeName = nodeName
        self.runtimeName = runtimeName
        self.kubeletPort = kubeletPort
        self.hostIP = hostIP
        self.capacity = capacity
        self.extraLabels = labels
        self.annotations = annotations
        self.logger = logger
        self.statusInterval = statusInterval
        self.pressure = pressure ?? { NodePressure.observe(rootDirectory: rootDirectory) }
    }

    var path: String { Self.nodes.named(nodeName).path }

    public func reportImages(_ source: @escaping @Sendable () async -> [NodeImage]) { images = source }

    /// `status.images`: names and size, largest first (as the kubelet sorts them).
    func imagesStatus() async -> JSONValue? {
        guard let images else { return nil }
        let list = await images().sorted { $0.sizeBytes > $1.sizeBytes }
        return .array(list.map { ["names": .array($0.names.map { .string($0) }), "sizeBytes": .int($0.sizeBytes)] })
    }

    // MARK: - registration

    /// Creates the Node with its labels and full status, or adopts an existing one (our
    /// labels set, others kept), then posts the status. Returns the Node as stored.
    /// `readiness`: the node's health checks at registration (a simulated node has none).
    @discardableResult
    public func register(readiness: NodeReadiness = .ready) async throws -> JSONValue {
        var node: JSONValue
        do {
            node = try await client.create(Self.nodes.path, nodeObject(now: Date(), readiness: readiness))
        } catch let e as KubeAPIError where e.isAlreadyExists {
            node = try await client.patch(path, ["metadata": ["labels": .object(labels.mapValues { .string($0) }),
                                                              "annotations": .object(annotations.mapValues { .string($0) })]], type: .merge)
        }
        nodeUID = node.uid
        // Create keeps status, but an adopted node has its predecessor's: post ours either way.
        node = try await postStatus(current: node, readiness: readiness)
        logger.info("node registered", metadata: ["node": .string(nodeName)])
        return node
    }

    /// The labels the kubelet sets on its Node, as Kubernetes' well-known labels; `labels`
    /// given at init add to (or override) them.
    var labels: [String: String] {
        var l = [
            "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": HostProbe.architecture,
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": HostProbe.architecture,
            "node.kubernetes.io/instance-type": "caravel",
        ]
        l.merge(extraLabels) { _, new in new }
        return l
    }

    func nodeObject(now: Date, readiness: NodeReadiness) -> JSONValue {
        var status = staticStatus
        status["conditions"] = .array(NodeConditions.merge(NodeConditions.desired(readiness: readiness, pressure: pressure()),
                                                           current: [], now: now))
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(nodeName), "labels": .object(labels.mapValues { .string($0) }),
                         "annotations": .object(annotations.mapValues { .string($0) })],
            "spec": [:],
            "status": status,
        ]
    }

    /// The parts of the status that only change when the machine does.
    var staticStatus: JSONValue {
        let machineID = HostProbe.firstLine("/etc/machine-id") ?? ""
        let systemUUID = HostProbe.firstLine("/sys/class/dmi/id/product_uuid") ?? machineID
        return [
            "capacity": capacity.capacityJSON,
            "allocatable": capacity.allocatableJSON,
            "addresses": [["type": "InternalIP", "address": .string(hostIP)], ["type": "Hostname", "address": .string(nodeName)]],
            "daemonEndpoints": ["kubeletEndpoint": ["Port": .int(Int64(kubeletPort))]],
            "nodeInfo": [
                "machineID": .string(machineID), "systemUUID": .string(systemUUID),
                "bootID": .string(HostProbe.firstLine("/proc/sys/kernel/random/boot_id") ?? ""),
                "kernelVersion": .string(HostProbe.kernelRelease()), "osImage": .string(HostProbe.osImage()),
                "containerRuntimeVersion": .string("\(runtimeName)://caravel"),
                "kubeletVersion": .string(Self.kubeletVersion), "kubeProxyVersion": "",
                "operatingSystem": "linux", "architecture": .string(HostProbe.architecture),
            ],
        ]
    }

    // MARK: - status loop

    /// Checks the status after `initialDelay`, then every `statusInterval` (plus kubelet's
    /// jitter) until cancelled, writing it when due. `readiness` decides the Ready condition
    /// (`NodeHealth`'s checks). `gate`, shared by a fleet of fake nodes, bounds the writes in
    /// flight across all of them, and `clock`, the fleet's, wakes their loops together.
    public func run(initialDelay: Duration = .zero, gate: ConcurrencyGate? = nil, clock: any Clock<Duration> = ContinuousClock(),
                    readiness: @Sendable () async -> NodeReadiness) async {
        if initialDelay > .zero {
            do { try await clock.sleep(for: initialDelay) } catch { return }
        }
        while !Task.isCancelled {
            let now = await readiness()
            await gate.run { await self.tick(readiness: now) }
            let wait = Jitter.apply(statusInterval, factor: Jitter.kubeletFactor, random: Double.random(in: 0..<1))
            do { try await clock.sleep(for: wait) } catch { return }
        }
    }

    /// One status check, written when due; errors are logged and the next tick tries again.
    func tick(readiness: NodeReadiness) async {
        let signature = StatusReportSchedule.signature(NodeConditions.desired(readiness: readiness, pressure: pressure()))
        guard schedule.isDue(signature, now: .now) else { return }
        do {
            let current: JSONValue
            do {
                current = try await client.get(path)
            } catch let e as KubeAPIError where e.isNotFound {
                logger.warning("node object gone; registering again", metadata: ["node": .string(nodeName)])
                _ = try await register(readiness: readiness)
                return
            }
            _ = try await postStatus(current: current, readiness: readiness)
        } catch is CancellationError {
            return
        } catch {
            logger.warning("node status update failed", metadata: ["node": .string(nodeName), "error": .string("\(error)")])
        }
    }

    /// Merge-patches `/status` with the conditions (other components' conditions kept, as the
    /// merge patch replaces the list whole) and whichever static fields differ from `current`.
    @discardableResult
    func postStatus(current: JSONValue, readiness: NodeReadiness) async throws -> JSONValue {
        let stored = current[path: ["status", "conditions"]]?.arrayValue ?? []
        let desired = NodeConditions.desired(readiness: readiness, pressure: pressure())
        let owned = Set(desired.map(\.type))
        let foreign = stored.filter { !owned.contains($0["type"]?.stringValue ?? "") }
        var status: [String: JSONValue] = [
            "conditions": .array(NodeConditions.merge(desired, current: stored, now: Date()) + foreign),
        ]
        for (key, value) in staticStatus.objectValue ?? [:] where current[path: ["status", key]] != value {
            status[key] = value
        }
        if let images = await imagesStatus(), current[path: ["status", "images"]] != images { status["images"] = images }
        var statusPath = Self.nodes.named(nodeName)
        statusPath.subresource = "status"
        let updated = try await client.patch(statusPath.path, ["status": .object(status)], type: .merge)
        if let uid = updated.uid { nodeUID = uid }
        schedule.wrote(StatusReportSchedule.signature(desired), at: .now)
        return updated
    }

    // MARK: - pod CIDR

    /// `spec.podCIDR` as stored now; nil until the node IPAM controller has assigned one (or
    /// when the Node cannot be read).
    public func podCIDR() async -> String? {
        guard let node = try? await client.get(path),
              let cidr = node[path: ["spec", "podCIDR"]]?.stringValue, !cidr.isEmpty else { return nil }
        return cidr
    }

    /// Polls `podCIDR()` every `pollInterval` until one is assigned; nil after `timeout` or
    /// on cancellation.
    public func waitForPodCIDR(timeout: Duration, pollInterval: Duration = .milliseconds(500)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while !Task.isCancelled {
            if let cidr = await podCIDR() { return cidr }
            if ContinuousClock.now + pollInterval > deadline { return nil }
            do { try await Task.sleep(for: pollInterval) } catch { return nil }
        }
        return nil
    }
}
