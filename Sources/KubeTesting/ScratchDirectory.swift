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

    deinit { try? FileManager.default.removeItem(at: url) }
}
