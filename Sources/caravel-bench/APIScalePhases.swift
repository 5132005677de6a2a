import KubeClient

/// The API figures that need many objects or many watchers: LIST of thousands of pods,
/// delivery to a thousand watchers, one watcher's event rate.
extension BenchCommand {
    func runAPIScalePhases(client: KubeRESTClient, namespace: String, pid: Int32?, report: BenchReport) async throws {
        if listPods > 0 {
            let phase = ListPhase(client: client, namespace: namespace)
            let made = try await phase.createPods(count: listPods, concurrency: concurrency)
            print("list phase: \(listPods) pods created in \(fmt(made / 1000, 2)) s (\(fmt(Double(listPods) / (made / 1000))) pods/s)")
            let r = try await phase.lists(repeats: listRepeats, expecting: listPods)
            if let s = LatencySummary(r.latencies) {
                print("LIST of \(listPods) pods ms: \(s.line) (\(listRepeats) LISTs one at a time, \(fmt(Double(r.bytes) / 1_048_576)) MiB each)")
                report.atMost("LIST of \(listPods) pods p50", s.p50, "ms", target: 150)
            }
            if let pid { print(rssLine(pid: pid, label: "server RSS with the list phase's pods")) }
            try await phase.deletePods()
        }
        let fanOut = WatchFanOutPhase(client: client, namespace: namespace)
        if watchers > 0 {
            let byWatcher = try await fanOut.fanOut(watchers: watchers, updates: watcherUpdates)
            if let all = LatencySummary(byWatcher.flatMap { $0 }) {
                let worst = byWatcher.compactMap { LatencySummary($0)?.p99 }.max() ?? all.max
                print("watch delivery to \(watchers) watchers ms: \(all.line) (\(all.count) deliveries); worst watcher's p99 \(fmt(worst, 2))")
                report.atMost("watch delivery p99 (\(watchers) watchers)", all.p99, "ms", target: 50)
            }
            if let pid { print(rssLine(pid: pid, label: "server RSS after the watchers")) }
        }
        if watchReplay > 0 {
            let rate = try await fanOut.replayRate(count: watchReplay, concurrency: concurrency)
            print("watch replay: \(watchReplay) events to one watcher at \(fmt(rate)) events/s")
            report.atLeast("events/s to one watcher", rate, "/s", target: 5000)
        }
    }
}
