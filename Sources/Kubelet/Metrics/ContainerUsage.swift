import Foundation

/// One container's usage at one instant, as the kubelet reports it: CPU as a cumulative
/// counter (core-seconds since the container started) and the memory working set (usage
/// minus inactive file pages, which the kernel can reclaim at once).
public struct ContainerUsage: Sendable, Equatable {
    public var cpuSeconds: Double
    public var memoryWorkingSetBytes: Int64

    public init(cpuSeconds: Double, memoryWorkingSetBytes: Int64) {
        self.cpuSeconds = cpuSeconds
        self.memoryWorkingSetBytes = memoryWorkingSetBytes
    }

    public static func + (a: ContainerUsage, b: ContainerUsage) -> ContainerUsage {
        ContainerUsage(cpuSeconds: a.cpuSeconds + b.cpuSeconds, memoryWorkingSetBytes: a.memoryWorkingSetBytes + b.memoryWorkingSetBytes)
    }

    public static let zero = ContainerUsage(cpuSeconds: 0, memoryWorkingSetBytes: 0)
}
