import Foundation

/// Kubernetes' image garbage collection: when the file system holding the images is fuller
/// than the high threshold (percent), images no container uses are removed, oldest first,
/// until it is below the low threshold. Images pulled less than `minimumAge` ago are spared
/// (a pod worker may have pulled one for a container it has not created yet).
public struct ImageGarbageCollector: Sendable {
    /// How often the kubelet runs a pass besides the one after each pull.
    public static let period = Duration.seconds(300)

    public var highThresholdPercent: Int
    public var lowThresholdPercent: Int
    public var minimumAge: Duration
    /// Percent of the file system used; statvfs of the store by default.
    public var usage: @Sendable (String) -> Double
    public var now: @Sendable () -> Date

    public init(highThresholdPercent: Int = 85, lowThresholdPercent: Int = 80, minimumAge: Duration = .seconds(120),
                usage: @escaping @Sendable (String) -> Double = ImageGarbageCollector.diskUsagePercent,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.highThresholdPercent = highThresholdPercent
        self.lowThresholdPercent = lowThresholdPercent
        self.minimumAge = minimumAge
        self.usage = usage
        self.now = now
    }

    public static func diskUsagePercent(_ path: String) -> Double {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0, stats.f_blocks > 0 else { return 0 }
        return 100 * (1 - Double(stats.f_bavail) / Double(stats.f_blocks))
    }

    /// Removes unused images while usage is above the thresholds; returns the references removed.
    /// `inUse`: image references of the node's containers (as written in pod specs).
    public func collect(_ store: ImageStore, inUse: [String]) async -> [String] {
        let root = store.content.root
        guard FileManager.default.fileExists(atPath: root), usage(root) > Double(highThresholdPercent) else { return [] }
        var used = Set<String>()
        for reference in inUse {
            guard let ref = try? ImageReference(parsing: reference), let image = await store.image(ref) else { continue }
            used.insert(image.manifestDigest)
        }
        let age = TimeInterval(minimumAge.components.seconds)
        let youngest = now().addingTimeInterval(-age)
        let candidates = await store.list()
            .filter { !used.contains($0.manifestDigest) && ($0.pulledAt ?? .distantPast) <= youngest }
            .sorted { ($0.pulledAt ?? .distantPast) < ($1.pulledAt ?? .distantPast) }
        var removed: [String] = []
        for image in candidates {
            if usage(root) < Double(lowThresholdPercent) { break }
            for name in image.references {
                guard let ref = try? ImageReference(parsing: name), (try? await store.remove(ref)) == true else { continue }
                removed.append(name)
            }
        }
        return removed
    }

    /// The periodic pass: one at start, then one every `period` until the task is cancelled.
    public static func runPeriodically(every period: Duration = Self.period, _ pass: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            await pass()
            do { try await Task.sleep(for: period) } catch { return }
        }
    }
}
