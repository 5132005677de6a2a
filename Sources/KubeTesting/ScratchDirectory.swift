import Foundation

/// A directory under the system's temporary directory that lives as long as this value:
/// a suite that keeps one as a stored property gets a fresh one per test (each test has an
/// instance of its suite), removed with everything in it when the test ends.
public final class ScratchDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(prefix: String) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A new, empty directory inside this one.
    public func subdirectory() -> URL {
        let dir = url.appendingPathComponent(UUID().uuidString)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    deinit { Self.remove(url) }

    /// Removes `url` and everything in it. One pass can fail when the contents change under
    /// the walk (a file listed and then gone, say), so it tries again while the directory is
    /// still there.
    public static func remove(_ url: URL) {
        for attempt in 0..<5 {
            do {
                try FileManager.default.removeItem(at: url)
                return
            } catch {
                guard FileManager.default.fileExists(atPath: url.path) else { return }
                if attempt < 4 { usleep(20_000) }
            }
        }
    }
}
