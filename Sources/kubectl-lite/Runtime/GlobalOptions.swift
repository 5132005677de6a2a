import ArgumentParser

/// kubectl's global flags that every verb accepts (`kubectl options`).
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("kubeconfig"), help: "Path to the kubeconfig file to use for CLI requests.")
    var kubeconfig: String?

    @Option(name: .customLong("context"), help: "The name of the kubeconfig context to use")
    var context: String?

    @Option(name: [.customShort("n"), .customLong("namespace")], help: "If present, the namespace scope for this CLI request")
    var namespace: String?

    @Option(name: .customLong("server"), help: "The address and port of the Kubernetes API server; several, comma-separated, are tried in turn when one cannot be reached")
    var server: String?

    @Option(name: .customLong("token"), help: "Bearer token for authentication to the API server")
    var token: String?

    @Option(name: .customLong("cache-dir"), help: "Default cache directory")
    var cacheDir: String?

    @Option(name: .customLong("request-timeout"), help: "The length of time to wait before giving up on a single server request.")
    var requestTimeout: String?

    @Option(name: [.customShort("v"), .customLong("v")], help: "number for the log level verbosity")
    var verbosity: Int?

    /// The global flags that take a value, for moving them behind the verb (see `ArgumentNormalizer`).
    static let valueFlags: Set<String> = ["--kubeconfig", "--context", "-n", "--namespace", "--server",
                                          "--token", "--cache-dir", "--request-timeout", "-v", "--v"]

    /// These options with any unset one taken from `other` (a parent command may have parsed
    /// flags given after a subcommand's name, e.g. `create configmap x -n ns`).
    func merged(_ other: GlobalOptions) -> GlobalOptions {
        var o = self
        o.kubeconfig = kubeconfig ?? other.kubeconfig
        o.context = context ?? other.context
        o.namespace = namespace ?? other.namespace
        o.server = server ?? other.server
        o.token = token ?? other.token
        o.cacheDir = cacheDir ?? other.cacheDir
        o.requestTimeout = requestTimeout ?? other.requestTimeout
        o.verbosity = verbosity ?? other.verbosity
        return o
    }
}
