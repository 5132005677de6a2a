import AsyncHTTPClient
import Foundation
import KubeModel
import Logging
import NIOCore
import ServiceLifecycle

/// Keeps every APIService's `Available` condition and the table of remote group/versions
/// (`AggregatedAPIs`) current, as kube-aggregator's availability controller: a Local one is
/// always available; a remote one is available while its backend answers its discovery
/// document (`/apis/GROUP/VERSION`), which is also what `/apis` then lists for it. Runs on
/// every change of the APIServices and every `interval`, so a backend that stops is noticed.
struct APIServiceAvailability: Service {
    let registry: Registry
    let apis: AggregatedAPIs
    let interval: Duration
    let logger: Logger

    static let prefix = "/registry/apiregistration.k8s.io/apiservices/"

    func run() async throws {
        let (subscription, _) = registry.store.watchFromNow(prefix: Self.prefix)
        let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in subscription.items { if case .event = item { tick.yield() } }
                    tick.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        tick.yield()
                        try? await Task.sleep(for: interval)
                    }
                }
                for await _ in ticks {
                    if Task.isCancelled || Task.isShuttingDownGracefully { break }
                    await sync()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            subscription.cancel()
            tick.finish()
        }
        subscription.cancel()
    }

    /// Checks every APIService and publishes the remote ones.
    func sync() async {
        guard let strategy = registry.catalog.strategy(group: "apiregistration.k8s.io", plural: "apiservices"),
              let all = try? await registry.listAll(strategy, namespace: nil) else { return }
        let results = await withTaskGroup(of: (JSONValue, AggregatedAPIs.Remote?, Condition).self) { group in
            for object in all { group.addTask { await check(object) } }
            var out: [(JSONValue, AggregatedAPIs.Remote?, Condition)] = []
            for await r in group { out.append(r) }
            return out
        }
        apis.replace(results.compactMap(\.1))
        for (object, _, condition) in results { await record(condition, on: object, strategy: strategy) }
    }

    struct Condition: Equatable {
        var status: String
        var reason: String
        var message: String
    }

    /// The remote entry (nil for a Local APIService) and the condition it earns now.
    func check(_ object: JSONValue) async -> (JSONValue, AggregatedAPIs.Remote?, Condition) {
        let spec = object["spec"] ?? .object([:])
        guard let backend = APIServiceBackend(apiService: object) else {
            return (object, nil, Condition(status: "True", reason: "Local", message: "Local APIServices are always available"))
        }
        var remote = AggregatedAPIs.Remote(
            name: object.name ?? "", group: spec["group"]?.stringValue ?? "", version: spec["version"]?.stringValue ?? "",
            backend: backend, groupPriority: spec["groupPriorityMinimum"]?.intValue ?? 0,
            versionPriority: spec["versionPriority"]?.intValue ?? 0, resources: nil)
        do {
            remote.resources = try await discover(remote)
            return (object, remote, Condition(status: "True", reason: "Passed", message: "all checks passed"))
        } catch {
            return (object, remote, Condition(status: "False", reason: error.reason, message: error.message))
        }
    }

    /// The backend's `APIResourceList` for the group/version.
    func discover(_ remote: AggregatedAPIs.Remote) async throws(APIServiceBackend.Failure) -> JSONValue {
        let (client, base) = try await remote.backend.client(registry: registry, identity: apis.clientIdentity, connectTimeout: .seconds(5))
        let url = "\(base)/apis/\(remote.group)/\(remote.version)"
        func failing(_ why: String) -> APIServiceBackend.Failure {
            APIServiceBackend.Failure(reason: "FailedDiscoveryCheck", message: "failing or missing response from \(url): \(why)")
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let outcome: Result<JSONValue, APIServiceBackend.Failure>
        do {
            let response = try await client.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 4 << 20)
            if response.status.code != 200 {
                outcome = .failure(failing("bad status from \(url): \(response.status.code)"))
            } else if let doc = try? JSONParser.parse(Array(buffer: body)), doc["kind"]?.stringValue == "APIResourceList" {
                outcome = .success(doc)
            } else {
                outcome = .failure(failing("the answer is not an APIResourceList"))
            }
        } catch {
            outcome = .failure(failing("\(error)"))
        }
        try? await client.shutdown()
        return try outcome.get()
    }

    /// Writes the Available condition when its status, reason or message changed.
    func record(_ condition: Condition, on object: JSONValue, strategy: any ResourceStrategy) async {
        guard let name = object.name else { return }
        let previous = object[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Available" }
        if let previous, previous["status"]?.stringValue == condition.status, previous["reason"]?.stringValue == condition.reason,
           previous["message"]?.stringValue == condition.message { return }
        if condition.status == "False" {
            logger.info("aggregated API unavailable", metadata: ["apiservice": .string(name), "reason": .string(condition.reason)])
        }
        _ = try? await registry.guaranteedUpdate(strategy, version: "v1", namespace: nil, name: name, target: .status,
                                                 options: WriteOptions()) { current in
            var c = current
            var conditions = (c[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Available" }
            let since = previous?["status"]?.stringValue == condition.status
                ? previous?["lastTransitionTime"] ?? .string(Timestamp.now()) : .string(Timestamp.now())
            conditions.append(["type": "Available", "status": .string(condition.status), "lastTransitionTime": since,
                               "reason": .string(condition.reason), "message": .string(condition.message)])
            c[path: ["status", "conditions"]] = .array(conditions)
            return c
        }
    }
}
