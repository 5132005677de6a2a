import Foundation

/// A kubeconfig for one node's kubelet, with a client certificate issued by the server's CA
/// (`caravel node-kubeconfig`).
public enum NodeKubeconfig {
    public static func write(dataDirectory: String, nodeName: String, server: String?, to path: String) throws {
        let pkiDir = (dataDirectory as NSString).appendingPathComponent("pki")
        let admin = (dataDirectory as NSString).appendingPathComponent("kubeconfig.yaml")
        guard let url = server ?? serverURL(inKubeconfig: admin) else {
            throw PKIError("cannot tell the server address: pass --server https://HOST:PORT")
        }
        let client = try PKI.nodeClient(directory: pkiDir, nodeName: nodeName)
        let ca = try String(contentsOfFile: (pkiDir as NSString).appendingPathComponent("ca.crt"), encoding: .utf8)
        try KubeconfigWriter.write(KubeconfigWriter.text(server: url, user: "system:node:" + nodeName, ca: ca, client: client), to: path)
    }

    /// The first `server:` of a kubeconfig we wrote.
    static func serverURL(inKubeconfig path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("server:") { return t.dropFirst("server:".count).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}
