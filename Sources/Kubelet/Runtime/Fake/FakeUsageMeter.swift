import Foundation
import KubeModel

/// The usage a fake pod declares in its annotations: `caravel.dev/fake-cpu` (a rate in cores,
/// e.g. `250m`) and `caravel.dev/fake-memory` (bytes, e.g. `64Mi`), for the whole pod and split
/// evenly over its running containers. The CPU counter grows at the declared rate on the
/// meter's clock, from when the pod was first seen; a changed annotation changes the rate
/// from the moment it is observed, so a rate computed between two samples is exactly the
/// declared one. A missing or unparsable annotation counts as zero.
public final class FakeUsageMeter: Sendable {
    public static let cpuAnnotation = "caravel.dev/fake-cpu"
    public static let memoryAnnotation = "caravel.dev/fake-memory"

    struct PodState: Sendable {
        var cores: Double
        var memoryBytes: Int64
        /// The counter's value at `since` (milliseconds since the epoch).
        var cpuSeconds: Double
        var since: Int64

        /// The counter at `ms`. Whole milliseconds throughout, so that a rate between two
        /// samples stamped in milliseconds comes out as exactly the declared one.
        func counter(at ms: Int64) -> Double { cpuSeconds + cores * Double(max(0, ms - since)) / 1000 }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    private let now: @Sendable () -> Date
    private let pods = Locked<[String: PodState]>([:])

    /// `now` is the meter's clock (wall-clock time, the time base of the kubelet's samples).
    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Takes in the pod's annotations as of now (a pod added or updated).
    public func observe(podUID: String, annotations: [String: String]) {
        observe(podUID: podUID, annotations: annotations, at: now())
    }

    func observe(podUID: String, annotations: [String: String], at time: Date) {
        let cores = Self.quantity(annotations[Self.cpuAnnotation]).map(\.doubleValue) ?? 0
        let memory = Self.quantity(annotations[Self.memoryAnnotation]).map(\.value) ?? 0
        let ms = Self.milliseconds(time)
        pods.withLock { pods in
            guard var state = pods[podUID] else {
                pods[podUID] = PodState(cores: cores, memoryBytes: memory, cpuSeconds: 0, since: ms)
                return
            }
            if state.cores != cores {
                state.cpuSeconds = state.counter(at: ms)
                state.since = max(state.since, ms)
                state.cores = cores
            }
            state.memoryBytes = memory
            pods[podUID] = state
        }
    }

    /// Forgets a deleted pod.
    public func forget(podUID: String) {
        pods.withLock { $0[podUID] = nil }
    }

    /// The pod's usage at `time`, split over `containers`.
    func usage(podUID: String, annotations: [String: String], containers: [String], at time: Date) -> [String: ContainerUsage] {
        guard !containers.isEmpty else { return [:] }
        observe(podUID: podUID, annotations: annotations, at: time)
        guard let state = pods.withLock({ $0[podUID] }) else { return [:] }
        let cpu = state.counter(at: Self.milliseconds(time))
        let share = ContainerUsage(cpuSeconds: cpu / Double(containers.count),
                                   memoryWorkingSetBytes: state.memoryBytes / Int64(containers.count))
        return Dictionary(containers.map { ($0, share) }, uniquingKeysWith: { a, _ in a })
    }

    static func quantity(_ text: String?) -> Quantity? {
        guard let text, let q = Quantity.parse(text.trimmingCharacters(in: .whitespaces)), q.doubleValue >= 0 else { return nil }
        return q
    }
}
