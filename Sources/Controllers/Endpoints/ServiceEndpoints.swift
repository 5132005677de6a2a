import Foundation
import KubeClient
import KubeModel

/// What both endpoint controllers read from a Service and its pods.
enum ServiceEndpoints {
    static let serviceResource = ResourcePath.core("services")

    /// One selected pod: its address, readiness and the Service ports resolved for it.
    struct PodEndpoint: Sendable {
        var ip: String
        var pod: JSONValue
        var ready: Bool
        var serving: Bool
        var terminating: Bool
        /// The pod's spec.hostname when its spec.subdomain names the Service: DNS then answers
        /// HOSTNAME.SERVICE.NS.svc.DOMAIN with its address (StatefulSet pods).
        var hostname: String?
        /// (name, port, protocol) per Service port that resolves on this pod.
        var ports: [JSONValue]

        var portKey: String { String(decoding: JSONWriter.bytes(.array(ports)), as: UTF8.self) }

        var targetRef: JSONValue {
            ["kind": "Pod", "namespace": .string(pod.namespace ?? ""), "name": .string(pod.name ?? ""), "uid": .string(pod.uid ?? "")]
        }

        var nodeName: String? { pod[path: ["spec", "nodeName"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
    }

    /// The Service's selector; nil when it has none (its endpoints are someone else's).
    static func selector(of service: JSONValue) -> [String: String]? {
        guard let map = service[path: ["spec", "selector"]]?.objectValue, !map.isEmpty else { return nil }
        var out: [String: String] = [:]
        for (k, v) in map { out[k] = v.stringValue ?? "" }
        return out
    }

    /// Endpoints of the pods `service` selects: those with an IP that have not finished,
    /// sorted by IP then name so that unchanged input renders the same object.
    static func endpoints(for service: JSONValue, selector: [String: String], pods: ObjectCache) -> [PodEndpoint] {
        let ns = service.namespace ?? ""
        let publishNotReady = service[path: ["spec", "publishNotReadyAddresses"]]?.boolValue == true
        let servicePorts = service[path: ["spec", "ports"]]?.arrayValue ?? []
        var out: [PodEndpoint] = []
        for pod in pods.list(namespace: ns) where LabelSelector.setMatches(selector, pod.labels) {
            let phase = pod[path: ["status", "phase"]]?.stringValue
            guard phase != "Succeeded", phase != "Failed", let ip = podIP(pod) else { continue }
            let terminating = ObjectRules.isTerminating(pod)
            let ready = ObjectRules.isReady(pod)
            out.append(PodEndpoint(ip: ip, pod: pod, ready: publishNotReady || (ready && !terminating), serving: publishNotReady || ready,
                                   terminating: terminating, hostname: hostname(of: pod, service: service.name ?? ""),
                                   ports: servicePorts.compactMap { resolve($0, on: pod) }))
        }
        return out.sorted { ($0.ip, $0.pod.name ?? "") < ($1.ip, $1.pod.name ?? "") }
    }

    static func hostname(of pod: JSONValue, service: String) -> String? {
        guard let hostname = pod[path: ["spec", "hostname"]]?.stringValue, !hostname.isEmpty,
              pod[path: ["spec", "subdomain"]]?.stringValue == service else { return nil }
        return hostname
    }

    static func podIP(_ pod: JSONValue) -> String? {
        if let ip = pod[path: ["status", "podIP"]]?.stringValue, !ip.isEmpty { return ip }
        return pod[path: ["status", "podIPs"]]?.arrayValue?.compactMap { $0["ip"]?.stringValue }.first { !$0.isEmpty }
    }

    /// A Service port on one pod: a numeric targetPort as is, a named one looked up in the
    /// pod's container ports (same protocol); nil when the pod has no such port.
    static func resolve(_ servicePort: JSONValue, on pod: JSONValue) -> JSONValue? {
        let proto = servicePort["protocol"]?.stringValue ?? "TCP"
        let target = servicePort["targetPort"] ?? servicePort["port"]
        var number: Int64?
        if let n = target?.intValue {
            number = n
        } else if let name = target?.stringValue {
            if let n = Int64(name) { number = n } else {
                let containers = pod[path: ["spec", "containers"]]?.arrayValue ?? []
                number = containers.lazy.flatMap { $0["ports"]?.arrayValue ?? [] }
                    .first { $0["name"]?.stringValue == name && ($0["protocol"]?.stringValue ?? "TCP") == proto }?["containerPort"]?.intValue
            }
        }
        guard let port = number, port > 0 else { return nil }
        return ["name": .string(servicePort["name"]?.stringValue ?? ""), "port": .int(port), "protocol": .string(proto)]
    }

    // MARK: - events

    typealias Enqueue = @Sendable (String) -> Void

    /// Pod changes wake the Services whose selector matched the pod before or after.
    static func podHandler(services: ObjectCache, enqueue: @escaping Enqueue) -> InformerHandler {
        @Sendable func wake(_ pods: [JSONValue]) {
            guard let ns = pods.first?.namespace else { return }
            var keys = Set<String>()
            for svc in services.list(namespace: ns) {
                guard let sel = selector(of: svc), pods.contains(where: { LabelSelector.setMatches(sel, $0.labels) }), let key = ObjectCache.key(of: svc) else { continue }
                keys.insert(key)
            }
            keys.forEach(enqueue)
        }
        return InformerHandler(onAdd: { wake([$0]) }, onUpdate: { old, new in wake([old, new]) }, onDelete: { wake([$0]) })
    }
}

extension ServiceEndpoints {
    /// The Endpoints controller: services and their pods wake the service; edits or deletes of
    /// an Endpoints object by others are repaired.
    static func endpointsDescriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "endpoints", workers: workers) { wiring in
            let services = wiring.cache(serviceResource)
            wiring.watchOwn(serviceResource)
            wiring.watch(.core("pods"), podHandler(services: services, enqueue: wiring.enqueue))
            wiring.watchOwn(EndpointsController.resource)
            return EndpointsController(client: client, services: services, pods: wiring.cache(.core("pods")),
                                       endpoints: wiring.cache(EndpointsController.resource))
        }
    }

    /// The EndpointSlice controller: as the Endpoints one, over managed slices.
    static func slicesDescriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "endpointslice", workers: workers) { wiring in
            let services = wiring.cache(serviceResource)
            wiring.watchOwn(serviceResource)
            wiring.watch(.core("pods"), podHandler(services: services, enqueue: wiring.enqueue))
            wiring.watch(EndpointSliceController.resource, EndpointSliceController.sliceHandler(wiring.enqueue))
            return EndpointSliceController(client: client, services: services, pods: wiring.cache(.core("pods")),
                                           slices: wiring.cache(EndpointSliceController.resource))
        }
    }
}
