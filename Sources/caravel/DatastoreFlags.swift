import APIServer
import ArgumentParser

/// Where the API server keeps the cluster's state: SQLite under the data directory unless
/// an etcd v3 cluster is named (kube-apiserver's `--etcd-*` flags under k3s' names).
struct DatastoreFlags: ParsableArguments {
    @Option(help: "etcd v3 client URLs (http(s)://host:port, comma-separated, tried in order); unset keeps the state in SQLite under --data-dir.")
    var datastoreEndpoint: String?

    @Option(help: "PEM CA bundle that verifies etcd's serving certificate.")
    var datastoreCafile: String?

    @Option(help: "PEM client certificate presented to etcd (with --datastore-keyfile).")
    var datastoreCertfile: String?

    @Option(help: "PEM private key of --datastore-certfile.")
    var datastoreKeyfile: String?

    @Option(help: "Key prefix of every object in etcd.")
    var datastorePrefix: String = EtcdConfiguration.defaultPrefix

    func validate() throws {
        do {
            _ = try etcd()
        } catch let error as EtcdConfigurationError {
            throw ValidationError(error.description)
        }
    }

    /// The etcd settings, or nil for the SQLite store.
    func etcd() throws -> EtcdConfiguration? {
        guard let datastoreEndpoint else {
            if datastoreCafile != nil || datastoreCertfile != nil || datastoreKeyfile != nil {
                throw EtcdConfigurationError("the --datastore-* TLS flags need --datastore-endpoint")
            }
            return nil
        }
        let config = EtcdConfiguration(endpoints: try EtcdConfiguration.parseEndpoints(datastoreEndpoint), caFile: datastoreCafile,
                                       certFile: datastoreCertfile, keyFile: datastoreKeyfile, prefix: datastorePrefix)
        try config.validate()
        return config
    }
}
