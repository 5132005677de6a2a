import Foundation
import KubeModel

/// The `kube-system/extension-apiserver-authentication` ConfigMap kube-apiserver publishes for
/// aggregated API servers: the CA of client certificates and the request-header settings
/// (which CA signs the front proxy's certificate, its allowed names, the `X-Remote-*` header
/// names), so a backend built on Kubernetes' apiserver library believes this server's proxied
/// requests. Also the `extension-apiserver-authentication-reader` Role that lets such a backend
/// read it.
enum ExtensionAPIServerAuthentication {
    static let namespace = "kube-system"
    static let name = "extension-apiserver-authentication"
    static let readerRole = "extension-apiserver-authentication-reader"

    static func configMap(caPEM: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)],
         "data": [
            "client-ca-file": .string(caPEM),
            "requestheader-client-ca-file": .string(caPEM),
            "requestheader-allowed-names": #"["front-proxy-client"]"#,
            "requestheader-username-headers": #"["X-Remote-User"]"#,
            "requestheader-uid-headers": #"["X-Remote-Uid"]"#,
            "requestheader-group-headers": #"["X-Remote-Group"]"#,
            "requestheader-extra-headers-prefix": #"["X-Remote-Extra-"]"#,
         ]]
    }

    /// Writes the ConfigMap (replacing an older one: the CA may have changed) and the Role.
    static func publish(_ registry: Registry, caPEM: String) async throws {
        if let configMaps = registry.catalog.strategy(group: "", plural: "configmaps") {
            let body = configMap(caPEM: caPEM)
            do {
                _ = try await registry.create(configMaps, version: "v1", namespace: namespace, body: body, options: WriteOptions())
            } catch {
                guard error.code == 409 else { throw error }
                _ = try await registry.guaranteedUpdate(configMaps, version: "v1", namespace: namespace, name: name, target: .main,
                                                        options: WriteOptions()) { current in
                    var o = current
                    o["data"] = body["data"]
                    return o
                }
            }
        }
        let role: JSONValue = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": ["name": .string(readerRole), "namespace": .string(namespace)],
            "rules": [["verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["configmaps"],
                       "resourceNames": [.string(name)]]],
        ]
        guard let roles = registry.catalog.strategy(group: "rbac.authorization.k8s.io", plural: "roles") else { return }
        do { _ = try await registry.create(roles, version: "v1", namespace: namespace, body: role, options: WriteOptions()) } catch {
            if error.code != 409 { throw error }
        }
    }
}
