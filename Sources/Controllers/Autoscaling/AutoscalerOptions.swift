import Foundation

/// The horizontal pod autoscaler's tuning, Kubernetes' `--horizontal-pod-autoscaler-*` flags.
public struct AutoscalerOptions: Sendable, Equatable {
    /// How often each autoscaler is evaluated (`--hpa-sync-period`, default 15s).
    public var syncPeriod: Duration = .seconds(15)
    /// A usage within this fraction of the target causes no scaling (default 0.1).
    public var tolerance: Double = 0.1
    /// Scale down only to the highest recommendation of this window (default 5m); an
    /// autoscaler's `behavior.scaleDown.stabilizationWindowSeconds` overrides it.
    public var downscaleStabilization: Duration = .seconds(300)
    /// CPU samples of pods younger than this count only once taken after the pod became ready (default 5m).
    public var cpuInitializationPeriod: Duration = .seconds(300)
    /// An unready pod within this much of its start is taken to be still starting (default 30s).
    public var initialReadinessDelay: Duration = .seconds(30)

    public init() {}

    static func seconds(_ d: Duration) -> TimeInterval {
        let (s, a) = d.components
        return TimeInterval(s) + TimeInterval(a) / 1e18
    }

    /// The pure calculator these options configure.
    var calculator: ReplicaCalculator {
        ReplicaCalculator(tolerance: tolerance, cpuInitializationPeriod: Self.seconds(cpuInitializationPeriod),
                          initialReadinessDelay: Self.seconds(initialReadinessDelay))
    }
}
