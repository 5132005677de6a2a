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
    /// When set, repeats bump the count of the first event, similar events are combined and
    /// floods are dropped, as client-go's recorder does (see `EventCorrelator`). Owned by the
    /// component, so it outlives each recorder value.
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
        var text = message
        var rememberAs: String?
        if let correlator {
            let identity = [component, host ?? "", apiVersion, kind, ns, object.name ?? "", object.uid ?? ""].joined(separator: "/")
            switch correlator.correlate(object: identity, type: type, reason: reason, message: message) {
            case .drop:
                return
            case .bump(let name, let count, let combined, let key):
                let bumped: JSONValue = ["count": .int(count), "lastTimestamp": now, "message": .string(combined)]
                if (try? await client.patch(Self.resource.inNamespace(ns).named(name).path, bumped)) != nil { return }
                // The earlier event is gone (expired or deleted): start a new one.
                correlator.forget(key)
                text = combined
                rememberAs = key
            case .create(let message, let key):
                text = message
                rememberAs = key
            }
        }
        var event: JSONValue = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": .string((object.name ?? "object") + "."), "namespace": .string(ns)],
            "involvedObject": [
                "apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(object.name ?? ""), "namespace": .string(ns),
                "uid": .string(object.uid ?? ""), "resourceVersion": .string(object.resourceVersion ?? ""),
            ],
            "type": .string(type), "reason": .string(reason), "message": .string(text),
            "source": host.map { ["component": .string(component), "host": .string($0)] } ?? ["component": .string(component)],
            "reportingComponent": .string(component), "reportingInstance": .string(host ?? component),
            "action": .string(action ?? reason), "count": 1, "firstTimestamp": now, "lastTimestamp": now,
        ]
        if let fieldPath { event[path: ["involvedObject", "fieldPath"]] = .string(fieldPath) }
        let created = try? await client.create(Self.resource.inNamespace(ns).path, event)
        if let correlator, let rememberAs, let name = created?.name { correlator.remember(rememberAs, name: name) }
    }
}
