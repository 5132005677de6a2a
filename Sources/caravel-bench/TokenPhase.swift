import Foundation
import KubeClient
import KubeModel

/// ConfigMap creates/s over HTTPS authenticated by a bearer token instead of the admin's
/// client certificate: a static token from `DIR/tokens.csv` and a ServiceAccount JWT (from a
/// TokenRequest, bound to the `edit` role in the namespace). Every request of the second kind
/// costs a signature check and reads of the account unless the server's token cache answers.
struct TokenPhase: Sendable {
    let client: KubeRESTClient
    let namespace: String
    let report: BenchReport

    static let staticUser = "bench-static"
    static let serviceAccount = "bench-writer"

    /// A line of the server's token file for `token` (an admin: the static token's RBAC is not
    /// what is measured).
    static func tokenFileLine(_ token: String) -> String {
        "\(token),\(staticUser),\(staticUser)-uid,\"system:masters\"\n"
    }

    /// A random token, as `caravel` writes its own.
    static func randomToken() -> String {
        String((0..<32).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "x" })
    }

    func run(staticToken: String?, count: Int, concurrency: Int) async throws {
        if let staticToken {
            try await measure(.token(staticToken), label: "static token", prefix: "tok-static", count: count, concurrency: concurrency)
        }
        let token = try await serviceAccountToken()
        try await measure(.token(token), label: "ServiceAccount token", prefix: "tok-sa", count: count, concurrency: concurrency)
    }

    private func measure(_ credential: Credential, label: String, prefix: String, count: Int, concurrency: Int) async throws {
        let c = client.connection
        let connection = ClusterConnection(server: c.server, certificateAuthority: c.certificateAuthority,
                                           insecureSkipTLSVerify: c.insecureSkipTLSVerify, credential: credential, namespace: namespace)
        let tokenClient = try KubeRESTClient(connection: connection,
                                             options: .init(maxConnectionsPerHost: concurrency + 2, userAgent: "caravel-bench/token"))
        defer { Task { try? await tokenClient.shutdown() } }
        let path = ResourcePath.core("configmaps", namespace: namespace).path
        // One unmeasured request first: connection set-up and the first (uncached) check.
        _ = try await tokenClient.create(path, Phases.configMap("\(prefix)-warmup", index: -1))
        let start = monotonicNanos()
        let latencies = try await Phases.fanOut(count: count, concurrency: concurrency) { i in
            _ = try await tokenClient.create(path, Phases.configMap("\(prefix)-\(i)", index: i))
        }
        let rate = Double(count) / (millis(since: start) / 1000)
        print("creates/s with a \(label): \(fmt(rate)) (\(count) objects, concurrency \(concurrency))")
        if let s = LatencySummary(latencies) { print("  create latency ms: \(s.line)") }
        report.atLeast("creates/s, \(label) (\(concurrency) clients)", rate, "/s", target: 5000)
    }

    /// A ServiceAccount that may edit the namespace, and an hour's token for it.
    private func serviceAccountToken() async throws -> String {
        let accounts = ResourcePath.core("serviceaccounts", namespace: namespace)
        _ = try await client.create(accounts.path, ["apiVersion": "v1", "kind": "ServiceAccount",
                                                    "metadata": ["name": .string(Self.serviceAccount)]])
        let bindings = ResourcePath(group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", namespace: namespace)
        _ = try await client.create(bindings.path, [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": ["name": .string(Self.serviceAccount)],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"],
            "subjects": [["kind": "ServiceAccount", "name": .string(Self.serviceAccount), "namespace": .string(namespace)]],
        ])
        let answer = try await client.create(accounts.named(Self.serviceAccount).path + "/token", [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 3600],
        ])
        guard let token = answer[path: ["status", "token"]]?.stringValue, !token.isEmpty else {
            throw BenchError("TokenRequest answered no token: \(answer)")
        }
        return token
    }
}
