import KubeModel
import KubeTesting
import Logging
import NIOConcurrencyHelpers
import Testing
@testable import Controllers
@testable import KubeClient

/// The built-in controllers wired as the manager wires them, over scripted informers and the
/// recording fake client: one informer per resource, unique names, events routed to the right
/// queues.
@Suite struct ControllerWiringTests {
    /// Informers over scripted sources; `made` counts how often each resource was asked for.
    final class ScriptedInformers: Sendable {
        let made = NIOLockedValueBox<[ResourcePath: Int]>([:])
        let lists: [ResourcePath: JSONValue]

        init(lists: [ResourcePath: JSONValue] = [:]) { self.lists = lists }

        var factory: InformerFactory {
            InformerFactory { resource in
                self.made.withLockedValue { $0[resource, default: 0] += 1 }
                let list = self.lists[resource].map { [$0] } ?? []
                return Informer(source: ScriptedSource(lists: list, watches: []))
            }
        }
    }

    /// Every built-in controller's queue, as keys per controller name.
    final class Keys: Sendable {
        let byController = NIOLockedValueBox<[String: [String]]>([:])
        func enqueue(_ controller: String) -> @Sendable (String) -> Void {
            { key in self.byController.withLockedValue { $0[controller, default: []].append(key) } }
        }
        func of(_ controller: String) -> [String] { byController.withLockedValue { $0[controller] ?? [] } }
    }

    func wireAll(_ informers: InformerFactory, keys: Keys) -> [ControllerDescriptor] {
        var options = ControllerManager.Options(workers: 3)
        options.csrSigning = CSRSigning(subject: { _ in nil }, sign: { _, _, _, _ in nil })
        let controllers = BuiltinControllers.all(client: RecordingClient(), caPEM: "PEM", options: options, logger: Logger(label: "test"))
        for controller in controllers {
            _ = controller.wire(ControllerWiring(informers: informers, enqueue: keys.enqueue(controller.name)))
        }
        return controllers
    }

    @Test func oneInformerPerResourceHoweverManyWatchIt() {
        let scripted = ScriptedInformers()
        let factory = scripted.factory
        let controllers = wireAll(factory, keys: Keys())

        let made = scripted.made.withLockedValue { $0 }
        #expect(made.values.allSatisfy { $0 == 1 }, "\(made)")
        #expect(factory.all.count == made.count)
        #expect(made[.core("pods")] == 1)
        // The node lifecycle controller watches the node Leases of one namespace only.
        #expect(made.keys.contains(NodeLifecycleController.leaseResource))
        #expect(made.keys.contains { $0.plural == "leases" && $0.namespace == nil } == false)

        let names = controllers.map(\.name)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(Set(names) == ["replicaset", "deployment", "garbagecollector", "scheduler", "nodelifecycle", "nodeipam",
                               "namespace", "clusterrole-aggregation", "endpoints", "endpointslice", "resourcequota",
                               "serviceaccount", "horizontalpodautoscaler", "root-ca-cert-publisher", "csrapproving", "csrsigning",
                               "disruption", "job", "ttl-after-finished", "cronjob", "replicationcontroller", "daemonset",
                               "statefulset", "persistentvolume-binder",
                               "persistentvolume-reclaimer", "local-path-provisioner", "cluster-dns-endpoints"])
        let workers = Dictionary(uniqueKeysWithValues: controllers.map { ($0.name, $0.workers) })
        #expect(workers["replicaset"] == 3 && workers["scheduler"] == Scheduler.bindingsInFlight && workers["nodeipam"] == 1)
    }

    @Test func aPodEventReachesTheControllersWatchingPods() async throws {
        let pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "web-1", "namespace": "default", "uid": "u1", "resourceVersion": "5", "labels": ["app": "web"],
                         "ownerReferences": [["apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-uid",
                                              "controller": true]]],
            "spec": ["containers": [["name": "c", "image": "x"]]],
        ]
        let scripted = ScriptedInformers(lists: [.core("pods"): ["items": [pod], "metadata": ["resourceVersion": "5"]]])
        let factory = scripted.factory
        let keys = Keys()
        _ = wireAll(factory, keys: keys)

        let informer = factory.informer(for: .core("pods"))
        let run = Task { await informer.run() }
        defer { run.cancel() }
        #expect(await informer.waitForSync())
        let delivered = await eventually(timeout: .seconds(10)) { !keys.of("replicaset").isEmpty && !keys.of("scheduler").isEmpty }
        #expect(delivered)
        #expect(keys.of("replicaset") == ["default/web"], "the owner's key, not the pod's")
        #expect(keys.of("scheduler") == ["default/web-1"], "an unscheduled pod is the scheduler's key")
        #expect(keys.of("deployment").isEmpty && keys.of("namespace").isEmpty)
    }
}
