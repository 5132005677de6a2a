import Foundation
import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// Kubernetes' node IPAM controller with its range allocator: every Node without a
/// `spec.podCIDR` gets the lowest free /24 of the cluster CIDR (`--cluster-cidr`, 10.244.0.0/16 by default) in
/// `spec.podCIDR` and `spec.podCIDRs`. What is in use is read from the Nodes themselves (the
/// informer's events), so the allocation survives restarts with no state of its own; a node
/// that already has a CIDR keeps it, since the field is immutable once set. When the range
/// is exhausted the node gets one `CIDRNotAvailable` event and is looked at again later, and
/// at once when a node goes away.
///
/// Run it with one worker: each allocation must see the previous one, which the cache may
/// not show yet, so allocations in flight are held until the node shows its CIDR (or is gone).
/// The allocation table follows node events, so an allocation costs a scan of the range, not
/// of every node (thousands of nodes would make that quadratic).
public struct NodeIPAMController: Reconciler {
    static let component = "cidrAllocator"
    static let nodeResource = ResourcePath.core("nodes")
    /// How soon a node that found no free CIDR tries again.
    static let exhaustedRetry: Duration = .seconds(30)
    /// Kubernetes' usual pod network, used unless the server chose or was given another.
    public static let defaultClusterCIDR = "10.244.0.0/16"

    let client: any ResourceClient
    let nodes: ObjectCache
    let range: CIDRRange
    let allocations: CIDRAllocations

    init(client: any ResourceClient, nodes: ObjectCache, clusterCIDR: String = defaultClusterCIDR, nodeMaskSize: Int = 24) {
        self.client = client
        self.nodes = nodes
        // A malformed setting falls back to the default rather than allocating nothing.
        let range = CIDRRange(cidr: clusterCIDR, subnetMask: nodeMaskSize)
            ?? CIDRRange(base: 0x0AF4_0000, prefix: 16, subnetMask: 24)
        self.range = range
        self.allocations = CIDRAllocations(range: range)
    }

    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: Self.component, correlator: correlator) }

    /// Watches nodes. One worker: each allocation must see the previous one.
    static func descriptor(client: any ResourceClient, clusterCIDR: String = defaultClusterCIDR) -> ControllerDescriptor {
        ControllerDescriptor(name: "nodeipam", workers: 1) { wiring in
            let controller = NodeIPAMController(client: client, nodes: wiring.cache(nodeResource), clusterCIDR: clusterCIDR)
            wiring.watch(nodeResource, controller.handler(enqueue: wiring.enqueue))
            return controller
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let node = nodes.get(key), let name = node.name else {
            allocations.release(key)
            return .done
        }
        if !Self.cidrs(of: node).isEmpty {
            allocations.observe(node)
            return .done
        }
        guard let index = allocations.allocate(name) else {
            if allocations.markExhausted(name) {
                await recorder.record(node, apiVersion: "v1", kind: "Node", type: "Warning", reason: "CIDRNotAvailable",
                                      message: "Node \(name) status is now: CIDRNotAvailable")
            }
            return .requeue(after: Self.exhaustedRetry)
        }
        let cidr = range.subnet(index)
        // Guarded by resourceVersion: if the node changed meanwhile (perhaps got a CIDR from
        // elsewhere), the conflict requeues it and the next look decides again.
        let patch: JSONValue = [
            "metadata": ["resourceVersion": .string(node.resourceVersion ?? "")],
            "spec": ["podCIDR": .string(cidr), "podCIDRs": [.string(cidr)]],
        ]
        do {
            _ = try await client.patch(Self.nodeResource.named(name).path, patch, type: .merge)
        } catch let e as KubeAPIError where e.isNotFound {
            allocations.release(name)
            return .done
        }
        return .done
    }

    static func cidrs(of node: JSONValue) -> [String] {
        var out = (node[path: ["spec", "podCIDRs"]]?.arrayValue ?? []).compactMap(\.stringValue)
        if let single = node[path: ["spec", "podCIDR"]]?.stringValue, !single.isEmpty, !out.contains(single) { out.append(single) }
        return out
    }

    /// Nodes feed the allocation table and wake themselves; a deleted node frees its CIDR, so
    /// the nodes that found the range exhausted are woken too.
    func handler(enqueue: @escaping ControllerEvents.Enqueue) -> InformerHandler {
        let allocations = self.allocations
        return InformerHandler(
            onAdd: { node in
                allocations.observe(node)
                if let name = node.name { enqueue(name) }
            },
            onUpdate: { _, node in
                allocations.observe(node)
                if let name = node.name { enqueue(name) }
            },
            onDelete: { node in
                guard let name = node.name else { return }
                allocations.release(name)
                enqueue(name)
                for waiting in allocations.takeExhausted() { enqueue(waiting) }
            })
    }
}

/// An IPv4 range cut into equal subnets: 10.244.0.0/16 into /24s is 256 subnets,
/// numbered from 0.
struct CIDRRange: Sendable, Equatable {
    let base: UInt32
    let prefix: Int
    let subnetMask: Int

    init(base: UInt32, prefix: Int, subnetMask: Int) {
        self.base = prefix == 0 ? 0 : base & ~((UInt32(1) << UInt32(32 - prefix)) - 1)
        self.prefix = prefix
        self.subnetMask = subnetMask
    }

    init?(cidr: String, subnetMask: Int) {
        guard let (ip, prefix) = Self.parse(cidr), prefix <= subnetMask, subnetMask <= 30, subnetMask - prefix <= 20 else { return nil }
        self.init(base: ip, prefix: prefix, subnetMask: subnetMask)
    }

    var count: Int { 1 << (subnetMask - prefix) }

    func subnet(_ index: Int) -> String {
        Self.format(base + UInt32(index) << UInt32(32 - subnetMask)) + "/\(subnetMask)"
    }

    /// The subnet number of `cidr`, if it is one of this range's subnets.
    func index(of cidr: String) -> Int? {
        guard let (ip, mask) = Self.parse(cidr), mask == subnetMask, ip >= base else { return nil }
        let offset = ip - base
        let i = Int(offset >> UInt32(32 - subnetMask))
        guard i < count, offset & ((UInt32(1) << UInt32(32 - subnetMask)) - 1) == 0 else { return nil }
        return i
    }

    static func parse(_ cidr: String) -> (UInt32, Int)? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard let b = UInt8(o) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return (v, prefix)
    }

    static func format(_ v: UInt32) -> String { "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)" }
}
