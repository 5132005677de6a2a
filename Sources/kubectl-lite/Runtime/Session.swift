import Foundation
import KubeClient
import KubeModel

/// What one command run talks to: the kubeconfig (read on first use), the REST client and
/// discovery (created on first use, so `version --client` and `config` verbs never open a
/// connection), and the namespace in effect. Used from the command's own task only.
final class Session {
    let options: GlobalOptions
    private var loadedFiles: KubeconfigFiles?
    private var builtClient: KubeRESTClient?
    private var builtMapper: RESTMapper?
    private var mapperIsFresh = false

    init(_ options: GlobalOptions) { self.options = options }

    /// The kubeconfig files by kubectl's loading rules.
    func files() throws -> KubeconfigFiles {
        if let loadedFiles { return loadedFiles }
        let files = try KubeconfigFiles.load(explicitPath: options.kubeconfig)
        loadedFiles = files
        return files
    }

    /// The connection after command-line overrides; `http://localhost:8080` without any config,
    /// as kubectl.
    func connection() throws -> ClusterConnection {
        let files = try files()
        var c: ClusterConnection
        let merged = files.resolved
        let hasContext = options.context != nil || !(merged["current-context"]?.stringValue ?? "").isEmpty
        if hasContext {
            c = try files.connection(context: options.context)
        } else {
            c = ClusterConnection(server: "http://localhost:8080")
        }
        if let server = options.server {
            // A list: the first is the server, the others take over when it cannot be reached.
            let list = server.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            c.server = list.first ?? server
            c.fallbackServers = Array(list.dropFirst())
        }
        if let token = options.token { c.credential = .token(token) }
        if let ns = options.namespace, !ns.isEmpty { c.namespace = ns }
        return c
    }

    /// The namespace in effect: `-n`, else the context's, else `default`.
    func namespace() throws -> String { try connection().namespace }

    /// The server URL (for error messages), when the config names one.
    var serverForErrors: String? { try? connection().server }

    /// The REST client, built on first use.
    func client() throws -> KubeRESTClient {
        if let builtClient { return builtClient }
        var opts = KubeRESTClient.Options(maxConnectionsPerHost: 8, userAgent: "kubectl-lite/\(Version.client)")
        if let t = options.requestTimeout, let seconds = DurationParser.seconds(t), seconds > 0 {
            opts.requestTimeout = .milliseconds(Int64(seconds * 1000))
        }
        let c = try KubeRESTClient(connection: try connection(), options: opts)
        builtClient = c
        return c
    }

    var cacheDirectory: String {
        options.cacheDir ?? (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.kube/cache"
    }

    func discovery() throws -> DiscoveryClient {
        let client = try client()
        return DiscoveryClient(client: client, cache: DiscoveryCache(cacheDir: cacheDirectory, server: client.connection.server))
    }

    /// The resource mapper over (cached) discovery.
    func mapper() async throws -> RESTMapper {
        if let builtMapper { return builtMapper }
        let m = RESTMapper(resources: try await discovery().resources())
        builtMapper = m
        return m
    }

    /// Resolves a resource argument; on a miss, refreshes discovery once (a new resource type may
    /// have appeared since the cache was written), as kubectl does.
    func resolve(_ argument: String) async throws -> [APIResourceInfo] {
        do { return try await mapper().resolve(argument) } catch let e as RESTMapperError {
            guard try await refreshMapper() else { throw e }
            return try await mapper().resolve(argument)
        }
    }

    /// The resource serving an object read from a file.
    func resource(apiVersion: String, kind: String) async throws -> APIResourceInfo? {
        if let r = try await mapper().resource(apiVersion: apiVersion, kind: kind) { return r }
        guard try await refreshMapper() else { return nil }
        return try await mapper().resource(apiVersion: apiVersion, kind: kind)
    }

    private func refreshMapper() async throws -> Bool {
        guard !mapperIsFresh else { return false }
        try discovery().invalidate()
        builtMapper = nil
        mapperIsFresh = true
        return true
    }

    /// Closes the client, if one was made.
    func close() async {
        if let builtClient { try? await builtClient.shutdown() }
        builtClient = nil
    }
}

extension Session {
    /// Runs `body` with a session and always closes it; errors come back in kubectl's words.
    static func with<T>(_ options: GlobalOptions, _ body: (Session) async throws -> T) async throws -> T {
        let session = Session(options)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            let server = session.serverForErrors
            await session.close()
            if error is CommandFailure { throw error }
            throw CommandFailure(CommandFailure.describe(error, server: server))
        }
    }
}
