import ArgumentParser
import Controllers

/// The horizontal pod autoscaler's flags, shared by `caravel server` and
/// `caravel controller-manager` (Kubernetes' kube-controller-manager names).
struct AutoscalerFlags: ParsableArguments {
    @Option(name: .customLong("hpa-sync-period"), help: "How often each HorizontalPodAutoscaler is evaluated.")
    var syncPeriod: Duration = .seconds(15)

    @Option(name: .customLong("horizontal-pod-autoscaler-tolerance"),
            help: "Minimum change of the usage-to-target ratio (either way) before the autoscaler scales.")
    var tolerance: Double = 0.1

    @Option(name: .customLong("horizontal-pod-autoscaler-downscale-stabilization"),
            help: "Scale down only to the highest recommendation of this window (when an HPA's behavior sets none).")
    var downscaleStabilization: Duration = .seconds(300)

    @Option(name: .customLong("horizontal-pod-autoscaler-cpu-initialization-period"),
            help: "After a pod starts, its CPU samples count only once taken after it became ready, for this long.")
    var cpuInitializationPeriod: Duration = .seconds(300)

    @Option(name: .customLong("horizontal-pod-autoscaler-initial-readiness-delay"),
            help: "After a pod starts, an unready pod is taken to be still starting for this long.")
    var initialReadinessDelay: Duration = .seconds(30)

    func validate() throws {
        guard syncPeriod > .zero else { throw ValidationError("--hpa-sync-period must be positive") }
        for (flag, d) in [("horizontal-pod-autoscaler-downscale-stabilization", downscaleStabilization),
                          ("horizontal-pod-autoscaler-cpu-initialization-period", cpuInitializationPeriod),
                          ("horizontal-pod-autoscaler-initial-readiness-delay", initialReadinessDelay)] where d < .zero {
            throw ValidationError("--\(flag) must not be negative")
        }
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--horizontal-pod-autoscaler-tolerance must be at least 0") }
    }

    var options: AutoscalerOptions {
        var o = AutoscalerOptions()
        o.syncPeriod = syncPeriod
        o.tolerance = tolerance
        o.downscaleStabilization = downscaleStabilization
        o.cpuInitializationPeriod = cpuInitializationPeriod
        o.initialReadinessDelay = initialReadinessDelay
        return o
    }
}
