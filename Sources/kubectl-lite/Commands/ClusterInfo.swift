import ArgumentParser
import KubeModel

/// `kubectl cluster-info`: where the control plane answers, and any cluster services
/// (`kubernetes.io/cluster-service=true` in kube-system).
struct ClusterInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster-info", abstract: "Display cluster information")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let color = Terminal.stdoutIsTerminal
        let green = { (s: String) in color ? "\u{1B}[0;32m\(s)\u{1B}[0m" : s }
        let yellow = { (s: String) in color ? "\u{1B}[0;33m\(s)\u{1B}[0m" : s }
        let text = try await Session.with(global) { session in
            let client = try session.client()
            let server = client.connection.server
            var out = "\(green("Kubernetes control plane")) is running at \(yellow(server))\n"
            let services = try await client.list("/api/v1/namespaces/kube-system/services",
                                                 query: ["labelSelector": "kubernetes.io/cluster-service=true"])
            for s in services["items"]?.arrayValue ?? [] {
                let name = s["metadata"]?["labels"]?["kubernetes.io/name"]?.stringValue ?? s["metadata"]?["name"]?.stringValue ?? ""
                let svc = Self.proxyName(s)
                out += "\(green(name)) is running at \(yellow("\(server)/api/v1/namespaces/kube-system/services/\(svc)/proxy"))\n"
            }
            out += "\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n"
            return out
        }
        Terminal.write(text)
    }

    /// kubectl's `<scheme>:<service>:<port name>` from the first port: the scheme `https` when
    /// the port is named so or is 443, the port's name when it has one, else the bare name.
    static func proxyName(_ service: JSONValue) -> String {
        let name = service["metadata"]?["name"]?.stringValue ?? ""
        guard let port = service[path: ["spec", "ports"]]?.arrayValue?.first else { return name }
        let portName = port["name"]?.stringValue ?? ""
        if portName == "https" || port["port"]?.intValue == 443 { return "https:\(name):\(portName)" }
        return portName.isEmpty ? name : "\(name):\(portName)"
    }
}
