import Foundation
import KubeModel

/// Writes core/v1 Events about the objects a controller acts on, for `kubectl describe` and
/// `kubectl get events`. Best effort, as in Kubernetes: a lost event never fails a reconcile.
public struct EventRecorder: Sendable {
    static let resource = ResourcePath.core("events")

    let client: any ResourceClient
    /// The reporting component, e.g. `replicaset-controller`.
    let component: String
    /// The node, for events from a kubelet (`source.host`).
    let host: String?
    /// When set, repeats bump the count of the first event instead of adding events.
    let correlator: EventCorrelator?

    public init(client: any ResourceClient, component: String, host: String? = nil, correlator: EventCorrelator? = nil) {
        self.client = client
        self.component = component
        self.host = host
        self.correlator = correlator
    }

    /// Records an event about `object` (of the given apiVersion and kind).
    public func record(_ object: JSONValue, apiVersion: String, kind: String, type: String = "Normal", reason: String,
                message: String, action: String? = nil, fieldPath: String? = nil) async {
        let now = JSONValue.string(Timestamp.now())
        let ns = object.namespace ?? "default"
        let key = [ns, object.uid ?? object.name ?? "", type, reason, message].joined(separator: "\u{0}")
        if let correlator, let (name, count) = correlator.repeatOf(key, now: Date()) {
            let bumped: JSONValue = ["count": .int(count), "lastTimestamp": now]
            if (try? await client.patch(Self.resource.inNamespace(ns).named(name).path, bumped)) != nil { return }
            correlator.forget(key)
        }
        var event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": .string((object.name ?? "object") + "."), "namespace": .string(ns)],
            "involvedObject": [
                "apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(object.name ?? ""), "namespace": .string(ns),
                "uid": .string(object.uid ?? ""), "resourceVersion": .string(object.resourceVersion ?? ""),
            ],
            "type": .string(type), "reason": .string(reason), "message": .string(message),
            "source": host.map { ["component": .string(component), "host": .string($0)] } ?? ["component": .string(component)],
            "reportingComponent": .string(component), "reportingInstance": .string(host ?? component),
            "action": .string(action ?? reason), "count": 1, "firstTimestamp": now, "lastTimestamp": now,
        ]
        if let fieldPath { event[path: ["involvedObject", "fieldPath"]] = .string(fieldPath) }
        let created = try? await client.create(Self.resource.inNamespace(ns).path, event)
        if let correlator, let name = created?.name { correlator.remember(key, name: name, now: Date()) }
    }
}
