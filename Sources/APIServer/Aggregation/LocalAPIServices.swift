import Foundation
import KubeModel
import Logging
import ServiceLifecycle

/// Keeps one `Local` APIService (no `spec.service`) per group/version this server serves, as
/// kube-apiserver's autoregistration does: the built-in groups (and the metrics groups) from
/// the start, labelled `automanaged: onstart`, and each served version of a
/// CustomResourceDefinition while the definition exists (`automanaged: true`, as the CRD
/// registration controller). An APIService someone else wrote under the same name is left alone.
struct LocalAPIServices: Service {
    let registry: Registry
    let extraGroups: [(name: String, version: String)]
    let logger: Logger

    static let label = "kube-aggregator.kubernetes.io/automanaged"
    static let crdPrefix = "/registry/apiextensions.k8s.io/customresourcedefinitions/"

    /// kube-apiserver's discovery priorities of the built-in group/versions; groups it does not
    /// list get the lowest built-in priority.
    static let priorities: [String: (group: Int64, version: Int64)] = [
        "/v1": (18000, 1), "apiregistration.k8s.io/v1": (18000, 15), "apps/v1": (17800, 15), "events.k8s.io/v1": (17750, 15),
        "authentication.k8s.io/v1": (17700, 15), "authorization.k8s.io/v1": (17600, 15), "autoscaling/v1": (17500, 15),
        "autoscaling/v2": (17500, 30), "batch/v1": (17400, 15), "certificates.k8s.io/v1": (17300, 15),
        "networking.k8s.io/v1": (17200, 15), "policy/v1": (17100, 15), "rbac.authorization.k8s.io/v1": (17000, 15),
        "storage.k8s.io/v1": (16800, 15), "apiextensions.k8s.io/v1": (16700, 15), "admissionregistration.k8s.io/v1": (16700, 15),
        "scheduling.k8s.io/v1": (16600, 15), "coordination.k8s.io/v1": (16500, 15), "node.k8s.io/v1": (16300, 15),
        "discovery.k8s.io/v1": (16200, 15),
    ]

    /// One desired APIService.
    struct Desired: Equatable {
        var group: String
        var version: String
        var groupPriority: Int64
        var versionPriority: Int64
        var automanaged: String
        var name: String { "\(version).\(group)" }
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (subscription, _) = registry.store.watchFromNow(prefix: Self.crdPrefix)
            await withGracefulShutdownHandler {
                await sync()
                for await item in subscription.items {
                    guard case .event = item else { continue }
                    await sync()
                }
            } onGracefulShutdown: {
                subscription.cancel()
            }
            subscription.cancel()
            // The watch was cut off: start over (unless shutting down).
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// The built-in group/versions (the server's own kinds and `extraGroups`).
    func builtins() -> [Desired] {
        var out: [Desired] = []
        var pairs = ResourceCatalog(registry.surface.builtins).groups.flatMap { g in g.versions.map { (g.name, $0) } }
        pairs += extraGroups.map { ($0.name, $0.version) }
        for (group, version) in pairs where !out.contains(where: { $0.group == group && $0.version == version }) {
            let p = Self.priorities["\(group)/\(version)"] ?? (group.hasSuffix(".k8s.io") ? (16000, 9) : (100, 100))
            out.append(Desired(group: group, version: version, groupPriority: p.group, versionPriority: p.version, automanaged: "onstart"))
        }
        return out
    }

    /// Every served version of the stored definitions (terminating ones too, until they go).
    func fromDefinitions() async -> [Desired]? {
        var out: [Desired] = []
        var after: String?
        repeat {
            guard let page = try? await registry.store.list(prefix: Self.crdPrefix, startAfter: after, limit: 500, atRevision: nil) else { return nil }
            for item in page.items {
                guard let group = item.object[path: ["spec", "group"]]?.stringValue else { continue }
                for v in item.object[path: ["spec", "versions"]]?.arrayValue ?? [] where v["served"]?.boolValue == true {
                    guard let version = v["name"]?.stringValue,
                          !out.contains(where: { $0.group == group && $0.version == version }) else { continue }
                    out.append(Desired(group: group, version: version, groupPriority: 1000, versionPriority: 100, automanaged: "true"))
                }
            }
            after = page.hasMore ? page.items.last?.key : nil
        } while after != nil
        return out
    }

    func sync() async {
        guard let strategy = registry.catalog.strategy(group: "apiregistration.k8s.io", plural: "apiservices"),
              let custom = await fromDefinitions(),
              let existing = try? await registry.listAll(strategy, namespace: nil) else { return }
        let builtin = builtins()
        let desired = builtin + custom.filter { c in !builtin.contains { $0.group == c.group && $0.version == c.version } }
        let byName = Dictionary(existing.compactMap { o in o.name.map { ($0, o) } }, uniquingKeysWith: { a, _ in a })
        for d in desired where byName[d.name] == nil {
            var body: JSONValue = [
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": ["name": .string(d.name), "labels": [Self.label: .string(d.automanaged)]],
                "spec": ["group": .string(d.group), "version": .string(d.version),
                         "groupPriorityMinimum": .int(d.groupPriority), "versionPriority": .int(d.versionPriority)],
            ]
            if d.group.isEmpty { body[path: ["spec", "group"]] = nil }  // omitted, as Go's omitempty
            do {
                _ = try await registry.create(strategy, version: "v1", namespace: nil, body: body, options: WriteOptions())
            } catch {
                if error.code != 409 { logger.warning("could not register a local APIService", metadata: ["name": .string(d.name), "error": .string(error.message)]) }
            }
        }
        // Only what this controller made and the server no longer serves goes.
        let wanted = Set(desired.map(\.name))
        for object in existing {
            guard let name = object.name, !wanted.contains(name), object[path: ["metadata", "labels", Self.label]]?.stringValue == "true",
                  APIServiceBackend(apiService: object) == nil else { continue }
            var options = DeleteOptions()
            options.preconditionUID = object[path: ["metadata", "uid"]]?.stringValue
            _ = try? await registry.delete(strategy, version: "v1", namespace: nil, name: name, options: options)
        }
    }
}
