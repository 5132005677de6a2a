import Foundation

/// Kubernetes' image garbage collection: when the file system holding the images is fuller
/// than the high threshold (percent), images no container uses are removed, oldest first,
/// until it is below the low threshold.
public struct ImageGarbageCollector: Sendable {
    public var highThresholdPercent: Int
    public var lowThresholdPercent: Int
    /// Percent of the file system used; statvfs of the store by default.
    public var usage: @Sendable (String) -> Double

    public init(highThresholdPercent: Int = 85, lowThresholdPercent: Int = 80,
                usage: @escaping @Sendable (String) -> Double = ImageGarbageCollector.diskUsagePercent) {
        self.highThresholdPercent = highThresholdPercent
        self.lowThresholdPercent = lowThresholdPercent
        self.usage = usage
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
        var removed: [String] = []
        for image in await store.list() where !used.contains(image.manifestDigest) {
            if usage(root) < Double(lowThresholdPercent) { break }
            for name in image.references {
                guard let ref = try? ImageReference(parsing: name), (try? await store.remove(ref)) == true else { continue }
                removed.append(name)
            }
        }
        return removed
    }
}
