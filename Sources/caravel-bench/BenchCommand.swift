import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `caravel-bench`: create / get / watch figures against a running (or self-started) server.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caravel-bench",
        abstract: "Measure create throughput, GET latency and watch delivery latency of a Caravel (or any Kubernetes) API server.",
        discussion: """
            Each run uses a fresh namespace (bench-xxxxxx), deleted at the end. Either point it at a \
            server with --kubeconfig, or let it start one with --start-server PATH_TO_CARAVEL.
            """)

    @Option(help: "Kubeconfig of the server to measure.")
    var kubeconfig: String?

    @Option(help: "Context to use instead of the kubeconfig's current-context.")
    var context: String?

    @Option(name: .customLong("start-server"),
            help: "Start `PATH server --data-dir <tmp> --port <free>`, wait for /readyz, measure it, stop it.")
    var startServer: String?

    @Option(name: .customLong("server-pid"), help: "Report this process's RSS (default: the started server's).")
    var serverPID: Int32?

    @Option(help: "ConfigMaps to create.")
    var creates = 2000

    @Option(help: "Concurrent tasks for creates and GETs.")
    var concurrency = 16

    @Option(help: "GETs of existing objects.")
    var gets = 5000

    @Option(name: .customLong("watch-events"), help: "Updates whose watch delivery is timed.")
    var watchEvents = 500

    @Option(name: .customLong("list-pods"),
            help: "Pods no scheduler takes, then whole-collection LISTs of them timed (--list-repeats); 0 skips.")
    var listPods = 0

    @Option(name: .customLong("list-repeats"), help: "LISTs timed in the --list-pods phase.")
    var listRepeats = 20

    @Option(name: .customLong("watchers"),
            help: "Concurrent watches, each on its own connection, all timed on --watcher-updates updates; 0 skips. The started server gets --max-watches-per-user 0.")
    var watchers = 0

    @Option(name: .customLong("watcher-updates"), help: "Updates delivered to every one of --watchers.")
    var watcherUpdates = 50

    @Option(name: .customLong("watch-replay"),
            help: "ConfigMaps created, then one watch from before them timed to the last event (events/s to one watcher); 0 skips.")
    var watchReplay = 0

    @Flag(name: .customLong("kubelet-fake"),
          help: "Fake-node scale phase: start `caravel kubelet --runtime fake` (needs --start-server or --caravel).")
    var kubeletFake = false

    @Option(name: .customLong("fake-nodes"), help: "Fake nodes for --kubelet-fake.")
    var fakeNodes = 50

    @Option(name: .customLong("fake-pods"), help: "Pods of the Deployment on the fake nodes; 0 times the nodes only.")
    var fakePods = 1000

    @Flag(name: .customLong("kubelet-process"), help: "Process-runtime phase on the server's built-in node.")
    var kubeletProcess = false

    @Option(name: .customLong("process-pods"), help: "`sh -c 'exec sleep 3600'` pods for --kubelet-process.")
    var processPods = 20

    @Option(name: .customLong("scheduler-nodes"),
            help: "Scheduler phase: Node objects the bench writes itself (no kubelet); 0 skips the phase.")
    var schedulerNodes = 0

    @Option(name: .customLong("scheduler-pods"), help: "Pods the scheduler phase creates and times until bound.")
    var schedulerPods = 5000

    @Flag(name: .customLong("scheduler-backlog"),
          help: "Scheduler phase with every pod created first: the server runs without controllers and `caravel controller-manager` starts once the pods exist (needs --start-server).")
    var schedulerBacklog = false

    @Flag(name: .customLong("ceilings"),
          help: "After the creates and GETs: the same creates as raw SQLite transactions and the same GETs from a bare server on the same TLS stack (needs --start-server).")
    var ceilings = false

    @Option(name: .customLong("soak-rounds"),
            help: "With --kubelet-fake: rounds of --soak-pods pods created and deleted on the fake nodes, server RSS compared; 0 skips.")
    var soakRounds = 0

    @Option(name: .customLong("soak-pods"), help: "Pods per soak round.")
    var soakPods = 1000

    @Option(name: .customLong("token-creates"),
            help: "ConfigMap creates authenticated by a static token and by a ServiceAccount token (needs --start-server); 0 skips.")
    var tokenCreates = 0

    @Option(name: .customLong("server-flag"), parsing: .unconditionalSingleValue,
            help: "A flag for the started server, e.g. --server-flag=--token-cache-ttl=0s (repeatable).")
    var serverFlags: [String] = []

    @Option(name: .customLong("etcd"),
            help: "Start this etcd binary on free loopback ports and run the started server on it (--datastore-endpoint), to compare with SQLite.")
    var etcdBinary: String?

    @Option(name: .customLong("caravel"), help: "caravel binary for the fake kubelet (default: the --start-server one).")
    var caravelBinary: String?

    @Option(name: .customLong("kubelet-root"), help: "Built-in kubelet's root dir, to find container pids (default: DATA/kubelet of the started server).")
    var kubeletRoot: String?

    func validate() throws {
        guard schedulerNodes >= 0, schedulerPods >= 1 else { throw ValidationError("scheduler counts must be positive") }
        if schedulerBacklog && (startServer == nil || schedulerNodes == 0 || kubeletFake || kubeletProcess) {
            throw ValidationError("--scheduler-backlog needs --start-server and --scheduler-nodes, and runs alone (no kubelet phases)")
        }
        guard fakeNodes >= 1, fakePods >= 0, processPods >= 1 else { throw ValidationError("kubelet counts must be at least 1 (--fake-pods 0 skips the pods)") }
        if kubeletFake && caravelBinary == nil && startServer == nil {
            throw ValidationError("--kubelet-fake needs --start-server or --caravel (the binary that runs the kubelet)")
        }
        if kubeletProcess && kubeletRoot == nil && startServer == nil {
            throw ValidationError("--kubelet-process needs --start-server or --kubelet-root")
        }
        guard (kubeconfig == nil) != (startServer == nil) else {
            throw ValidationError("give exactly one of --kubeconfig and --start-server")
        }
        guard creates >= 0, gets >= 0, watchEvents >= 0, tokenCreates >= 0 else { throw ValidationError("counts must not be negative") }
        if ceilings {
            guard startServer != nil, creates > 0, gets > 0 else { throw ValidationError("--ceilings needs --start-server, --creates and --gets") }
        }
        guard soakRounds >= 0, soakPods >= 1 else { throw ValidationError("--soak-rounds must not be negative, --soak-pods at least 1") }
        guard soakRounds == 0 || kubeletFake else { throw ValidationError("--soak-rounds needs --kubelet-fake (its nodes run the pods)") }
        guard tokenCreates == 0 || startServer != nil else { throw ValidationError("--token-creates needs --start-server (it writes the token file)") }
        guard serverFlags.isEmpty || startServer != nil else { throw ValidationError("--server-flag needs --start-server") }
        guard etcdBinary == nil || startServer != nil else { throw ValidationError("--etcd needs --start-server") }
        guard listPods >= 0, listRepeats >= 1, watchers >= 0, watcherUpdates >= 1, watchReplay >= 0 else {
            throw ValidationError("--list-pods, --watchers and --watch-replay must not be negative; --list-repeats and --watcher-updates at least 1")
        }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard gets == 0 || creates > 0 else { throw ValidationError("--gets needs --creates > 0 (it reads those objects)") }
    }

    /// The static token the started server accepts (written to its token file), for --token-creates.
    private var staticToken: String? { tokenCreates > 0 ? Self.staticTokenValue : nil }
    private static let staticTokenValue = TokenPhase.randomToken()

    /// ArgumentParser's entry point; main.swift calls `execute()` directly (see there why).
    func run() async throws { try await execute() }

    /// Gets a client (starting a server if asked), measures, and tears everything down in
    /// every outcome: client shut down, server stopped, its temp dir removed unless something failed.
    func execute() async throws {
        // Pool sized for the workers plus the watch, so neither queues behind the other.
        let options = KubeRESTClient.Options(maxConnectionsPerHost: concurrency + 2, userAgent: "caravel-bench")
        var server: LocalServer?
        let client: KubeRESTClient
        let etcd = try etcdBinary.map { try EtcdChild.start(binary: $0) }
        if let etcd { print("started etcd at \(etcd.endpoint) (pid \(etcd.child.pid))") }
        if let binary = startServer {
            // The built-in node is only wanted by the process phase; without it RSS is the server's own.
            var extra = kubeletProcess ? [] : ["--disable-kubelet"]
            if schedulerBacklog { extra.append("--disable-controllers") }
            if watchers > 0 { extra += ["--max-watches-per-user", "0"] }
            extra += serverFlags
            if let etcd { extra += ["--datastore-endpoint", etcd.endpoint] }
            let files = staticToken.map { ["tokens.csv": TokenPhase.tokenFileLine($0)] } ?? [:]
            let started = try LocalServer.start(binary: binary, extraArguments: extra, files: files)
            server = started
            print("started \(binary) server (pid \(started.pid), port \(started.port), data \(started.dataDir))")
            do { client = try await started.waitReady(options: options) } catch {
                await started.stop()
                print("server log kept in \(started.logPath)")
                await etcd?.stop(keep: true)
                throw error
            }
        } else {
            client = try KubeRESTClient(kubeconfigPath: kubeconfig, context: context, options: options)
        }

        var failure: (any Error)?
        do {
            try await measure(client: client, pid: serverPID ?? server?.pid, server: server)
        } catch {
            failure = error
        }
        try? await client.shutdown()
        if let server {
            let ended = await server.stop()
            // Pods outlive the server: the built-in node's network namespaces, cgroups and
            // nftables tables go with `caravel killall`, as after any server on this host.
            if kubeletProcess, let binary = startServer {
                await Self.killAll(binary: binary, dataDir: server.dataDir, logDir: server.baseDir)
            }
            if failure == nil && ended.clean {
                server.cleanup()
            } else {
                print("server \(ended); log kept in \(server.logPath)")
            }
        }
        await etcd?.stop(keep: failure != nil)
        if let failure { throw failure }
    }

    private func measure(client: KubeRESTClient, pid: Int32?, server: LocalServer?) async throws {
        let namespace = "bench-" + String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "x" })
        print("server: \(client.connection.server)  namespace: \(namespace)  date: \(ISO8601DateFormatter().string(from: Date()))")
        if let pid { print(rssLine(pid: pid, label: "server RSS before")) }

        _ = try await client.create(ResourcePath.core("namespaces").path,
                                    ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        let phases = Phases(client: client, namespace: namespace)
        let report = BenchReport()
        var failure: (any Error)?
        do {
            let api = try await runPhases(phases, pid: pid, report: report)
            try await runAPIScalePhases(client: client, namespace: namespace, pid: pid, report: report)
            if ceilings, let server {
                try await runCeilings(CeilingPhase(client: client, namespace: namespace, scratchDirectory: server.baseDir,
                                                   pkiDirectory: client.connection.usesTLS ? server.dataDir + "/pki" : nil), api: api)
            }
            if tokenCreates > 0 {
                try await TokenPhase(client: client, namespace: namespace, report: report)
                    .run(staticToken: staticToken, count: tokenCreates, concurrency: concurrency)
            }
            if schedulerNodes > 0 {
                let manager = schedulerBacklog ? server.map { (binary: startServer ?? "", kubeconfig: $0.kubeconfigPath) } : nil
                let rate = try await SchedulerPhase(client: client, namespace: namespace)
                    .run(nodes: schedulerNodes, pods: schedulerPods, concurrency: concurrency, controllerManager: manager)
                report.atLeast("scheduler pods/s on \(schedulerNodes) nodes", rate, "pods/s", target: 500)
                if let pid { print(rssLine(pid: pid, label: "server RSS after the scheduler phase")) }
            }
            try await runKubeletPhases(KubeletPhases(client: client, namespace: namespace, report: report), pid: pid, server: server)
        } catch {
            failure = error
        }
        for line in report.lines { print(line) }
        // Clean up even after a failure; a cleanup error only matters if the run itself succeeded.
        do {
            try await client.delete(ResourcePath.core("namespaces", name: namespace).path)
        } catch {
            if failure == nil { failure = BenchError("deleting namespace \(namespace): \(error)") }
        }
        if let failure { throw failure }
    }

    /// The API phases; answers the creates/s and GETs/s measured (0 for a phase skipped).
    @discardableResult
    private func runPhases(_ phases: Phases, pid: Int32?, report: BenchReport) async throws -> (creates: Double, gets: Double) {
        var measured = (creates: 0.0, gets: 0.0)
        if creates > 0 {
            let r = try await phases.creates(count: creates, concurrency: concurrency)
            let rate = Double(creates) / (r.wallMs / 1000)
            measured.creates = rate
            print("creates/s: \(fmt(rate)) (\(creates) objects, concurrency \(concurrency))")
            report.atLeast("creates/s (\(concurrency) clients)", rate, "/s", target: 5000)
            if let s = LatencySummary(r.latencies) {
                print("create latency ms: \(s.line)")
                report.atMost("create p99", s.p99, "ms", target: 25)
            }
        }
        if gets > 0 {
            let r = try await phases.gets(count: gets, existing: creates, concurrency: concurrency)
            let rate = Double(gets) / (r.wallMs / 1000)
            measured.gets = rate
            if let s = LatencySummary(r.latencies) {
                print("get latency ms: \(s.line) (\(gets) GETs, concurrency \(concurrency), \(fmt(rate)) GETs/s)")
                report.atMost("GET p99", s.p99, "ms", target: 2)
            }
        }
        if watchEvents > 0 {
            let delays = try await phases.watchDelivery(events: watchEvents)
            if let s = LatencySummary(delays) {
                print("watch delivery ms: \(s.line) (\(watchEvents) events)")
                report.atMost("watch delivery p99 (one watcher)", s.p99, "ms", target: 50)
            }
        }
        if let pid { print(rssLine(pid: pid, label: "server RSS after")) }
        return measured
    }

    /// The ceilings next to the API's figures: API / ceiling is the share of what the store
    /// and the network allow that the API server delivers.
    private func runCeilings(_ phase: CeilingPhase, api: (creates: Double, gets: Double)) async throws {
        let store = try await phase.storeCeiling(count: creates, concurrency: concurrency)
        print("store ceiling: \(fmt(store)) creates/s (raw SQLite: WAL, synchronous=FULL, one transaction per create, \(concurrency) tasks); "
              + "API creates/s \(fmt(api.creates)) = \(fmt(api.creates / store, 2)) of it")
        let network = try await phase.networkCeiling(count: gets, concurrency: concurrency)
        let line = LatencySummary(network.latencies).map { " (latency ms: \($0.line))" } ?? ""
        print("network ceiling: \(fmt(network.rate)) GETs/s from a bare server on the same TLS stack, same bytes\(line); "
              + "API GETs/s \(fmt(api.gets)) = \(fmt(api.gets / network.rate, 2)) of it")
    }

    private func runKubeletPhases(_ phases: KubeletPhases, pid: Int32?, server: LocalServer?) async throws {
        if kubeletFake, let binary = caravelBinary ?? startServer {
            let kubeconfig = server?.kubeconfigPath ?? kubeconfig ?? ""
            try await phases.fakeNodes(binary: binary, kubeconfig: kubeconfig, nodes: fakeNodes, pods: fakePods, serverPID: pid,
                                       soak: (soakRounds, soakPods, concurrency))
        }
        if kubeletProcess, let root = kubeletRoot ?? server.map({ $0.dataDir + "/kubelet" }) {
            try await phases.processPods(count: processPods, kubeletRoot: root)
            if let pid { print(rssLine(pid: pid, label: "server RSS after process pods")) }
        }
    }

    /// Runs `binary killall --data-dir DIR` and prints what it reports.
    static func killAll(binary: String, dataDir: String, logDir: String) async {
        do {
            let child = try ChildProcess.start(binary: binary, arguments: ["killall", "--data-dir", dataDir], log: logDir + "/killall.log")
            let exit = await child.finish(within: .seconds(120))
            print("caravel killall: \(exit); " + child.logTail(bytes: 600).split(separator: "\n").joined(separator: "; "))
        } catch {
            print("caravel killall could not run: \(error)")
        }
    }
}
