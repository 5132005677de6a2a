import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// The resource quota controller against the real API server: status.hard mirrors spec.hard
/// and status.used counts the namespace's pods and ConfigMaps, dropping a pod once it failed.
@Suite struct ResourceQuotaControllerTests {
    @Test(.timeLimit(.minutes(5))) func statusTracksUsage() async throws {
        try await withControlPlane(scenario)
    }

    func scenario(_ client: KubeRESTClient) async throws {
        let ns = "quota"
        _ = try await client.create(ResourcePath.core("namespaces").path, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]])
        let pods = ResourcePath.core("pods", namespace: ns)
        for name in ["a", "b"] {
            _ = try await client.create(pods.path, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                                                    "spec": ["containers": [["name": "c", "image": "x",
                                                                             "resources": ["requests": ["cpu": "250m"]]]]]])
        }
        _ = try await client.create(ResourcePath.core("configmaps", namespace: ns).path,
                                    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm"]])
        let quotas = ResourcePath.core("resourcequotas", namespace: ns)
        _ = try await client.create(quotas.path, ["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": "q"],
                                                  "spec": ["hard": ["pods": "5", "requests.cpu": "2", "configmaps": "3", "count/deployments.apps": "1"]]])
        func status() async throws -> JSONValue { try await client.get(quotas.named("q").path)["status"] ?? .null }
        // Other controllers may publish ConfigMaps too (kube-root-ca.crt): count what is there.
        let counted = try await eventually {
            let configMaps = try await client.list(ResourcePath.core("configmaps", namespace: ns).path)["items"]?.arrayValue?.count ?? 0
            let s = try await status()
            return s["hard"] == ["pods": "5", "requests.cpu": "2", "configmaps": "3", "count/deployments.apps": "1"]
                && s["used"] == ["pods": "2", "requests.cpu": "500m", "configmaps": .string(String(configMaps)), "count/deployments.apps": "0"]
        }
        let afterCount = try await status()
        #expect(counted, "status: \(afterCount)")

        // A failed pod no longer counts; its change alone wakes the controller.
        var failed = try await client.get(pods.named("a").path)
        failed["status"] = ["phase": "Failed"]
        var statusPath = pods.named("a")
        statusPath.subresource = "status"
        _ = try await client.update(statusPath.path, failed)
        let dropped = try await eventually { try await status()["used"]?["pods"] == "1" }
        let afterFail = try await status()
        #expect(dropped, "status: \(afterFail)")
        #expect(afterFail["used"]?["requests.cpu"] == "250m")
    }

    @Test func usageFromListedObjects() async throws {
        let hard: [String: Quantity] = ["services": Quantity(mantissa: 2), "services.nodeports": Quantity(mantissa: 5)]
        let used = try await ResourceQuotaController.usage(hard: hard, spec: [:], namespace: "ns", pods: ObjectCache()) { group, plural in
            #expect(group == "" && plural == "services")
            return [["spec": ["type": "NodePort", "ports": [["port": 80], ["port": 443]]]], ["spec": ["type": "ClusterIP"]]]
        }
        #expect(used["services"] == Quantity(mantissa: 2) && used["services.nodeports"] == Quantity(mantissa: 2))
    }
}
