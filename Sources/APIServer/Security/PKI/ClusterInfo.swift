import Foundation
import KubeModel
import Logging

/// kubeadm's discovery: ConfigMap `kube-public/cluster-info` holds a kubeconfig with only the
/// server address and the CA, readable without credentials, so a joining kubelet can find the
/// CA and check it against the `--ca-cert-hash` it was given.
public enum ClusterInfo {
    public static let namespace = "kube-public"
    public static let name = "cluster-info"
    /// The one request anonymous callers may make.
    public static let path = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
    static let roleName = "caravel:bootstrap-signer-clusterinfo"
    static let rbacGroup = "rbac.authorization.k8s.io"

    /// The kubeconfig the ConfigMap carries: cluster only, no user.
    static func kubeconfig(server: String, caPEM: String) -> String {
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: ""
          cluster:
            server: \(server)
            certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())
        contexts: []
        users: []
        current-context: ""
        preferences: {}

        """
    }

    /// Creates or refreshes the ConfigMap, and the Role and RoleBinding letting
    /// `system:anonymous` get it (and nothing else).
    static func ensure(_ registry: Registry, server: String, caPEM: String) async throws {
        let cm: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "data": ["kubeconfig": .string(kubeconfig(server: server, caPEM: caPEM))],
        ]
        if let s = registry.catalog.strategy(group: "", plural: "configmaps") {
            try await createOrReplace(registry, s, cm)
        }
        let role: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": ["name": .string(roleName), "namespace": .string(namespace)],
            "rules": [["verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": [.string(name)]]],
        ]
        let binding: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": ["name": .string(roleName), "namespace": .string(namespace)],
            "roleRef": ["apiGroup": .string(rbacGroup), "kind": "Role", "name": .string(roleName)],
            "subjects": [["apiGroup": .string(rbacGroup), "kind": "User", "name": "system:anonymous"]],
        ]
        for (plural, body) in [("roles", role), ("rolebindings", binding)] {
            guard let s = registry.catalog.strategy(group: rbacGroup, plural: plural) else { continue }
            do { _ = try await registry.create(s, version: "v1", namespace: namespace, body: body, options: WriteOptions()) } catch {
                if error.code != 409 { throw error }
            }
        }
    }

    /// Create, or on conflict replace the content (the server address or CA may have changed).
    static func createOrReplace(_ registry: Registry, _ s: any ResourceStrategy, _ body: JSONValue) async throws {
        do {
            _ = try await registry.create(s, version: "v1", namespace: namespace, body: body, options: WriteOptions())
        } catch {
            guard error.code == 409 else { throw error }
            _ = try await registry.guaranteedUpdate(s, version: "v1", namespace: namespace, name: name, target: .main,
                                                    options: WriteOptions()) { current in
                var o = current
                o["data"] = body["data"]
                return o
            }
        }
    }

    /// The address other nodes use: the bind address, loopback for the loopback default, and
    /// the host name (a SAN of the serving certificate) for a wildcard bind.
    static func serverURL(_ config: APIServerConfiguration) -> String {
        var host = config.bindAddress
        if ["0.0.0.0", "::", ""].contains(host) {
            let name = ProcessInfo.processInfo.hostName
            host = name.isEmpty ? "127.0.0.1" : name
        }
        if host.contains(":") { host = "[\(host)]" }
        return "https://\(host):\(config.port)"
    }

    /// What `caravel server` prints for a second kubelet: server, join token and CA pin.
    public static func joinCommand(server: String, token: BootstrapToken, caHash: String) -> String {
        "caravel kubelet --server \(server) --token \(token) --ca-cert-hash \(caHash)"
    }

    /// Everything a join needs, done at server start: the token, cluster-info and
    /// `DIR/join-command.txt` (0600: it holds the token secret).
    static func prepareJoin(_ registry: Registry, config: APIServerConfiguration, server: String, pki: PKI,
                            logger: Logger) async throws {
        let token = try await BootstrapTokens.ensure(registry)
        try await ensure(registry, server: server, caPEM: pki.ca.certificatePEM)
        let command = joinCommand(server: server, token: token, caHash: try CSRSigner.caCertHash(certificatePEM: pki.ca.certificatePEM))
        let file = (config.dataDirectory as NSString).appendingPathComponent("join-command.txt")
        try SecureFile.writeAtomically(file, command + "\n", mode: 0o600)
        logger.notice("to join another node, run: \(command)", metadata: ["file": .string(file)])
    }
}

extension Authenticator {
    /// Anonymous access, as Kubernetes' anonymous authenticator limited by conditions to one
    /// path: a GET of cluster-info becomes `system:anonymous`, and RBAC still decides.
    /// Every other request without credentials stays 401.
    public static func anonymousUser(method: String, path: String) -> UserInfo? {
        guard method == "GET", path == ClusterInfo.path else { return nil }
        return UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])
    }
}
