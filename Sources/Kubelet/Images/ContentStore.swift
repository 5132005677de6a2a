import Crypto
import Foundation

/// Content-addressed storage under `ROOT/images`: every blob once, at `blobs/sha256/<hex>`,
/// written only after its digest was checked (to a temporary name, then renamed, so a reader
/// never sees half a blob), and the unpacked layers at `layers/sha256/<hex>`.
public struct ContentStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var blobsDirectory: String { root + "/blobs/sha256" }
    public var layersDirectory: String { root + "/layers/sha256" }
    var temporaryDirectory: String { root + "/tmp" }

    public func blobPath(_ digest: String) -> String { blobsDirectory + "/" + Self.hex(digest) }
    public func layerPath(_ digest: String) -> String { layersDirectory + "/" + Self.hex(digest) }

    public func hasBlob(_ digest: String) -> Bool { FileManager.default.fileExists(atPath: blobPath(digest)) }

    public func readBlob(_ digest: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: blobPath(digest)))
    }

    /// Stores `data` as `digest` after checking it; a mismatch stores nothing.
    public func writeBlob(_ data: Data, digest: String) throws {
        let actual = Self.digest(of: data)
        guard actual == digest else {
            throw ImageError.invalidContent("digest mismatch: expected \(digest), got \(actual)")
        }
        if hasBlob(digest) { return }
        let temp = try makeTemporaryFile()
        try data.write(to: URL(fileURLWithPath: temp))
        try commit(temp, as: digest)
    }

    /// Moves a file already verified to hold `digest` into place.
    public func commit(_ temporaryPath: String, as digest: String) throws {
        try FileManager.default.createDirectory(atPath: blobsDirectory, withIntermediateDirectories: true)
        guard rename(temporaryPath, blobPath(digest)) == 0 else {
            throw ImageError.transport("storing blob \(digest): \(String(cString: strerror(errno)))")
        }
    }

    /// A fresh file path under the store (same file system as the blobs, so rename works).
    public func makeTemporaryFile() throws -> String {
        try FileManager.default.createDirectory(atPath: temporaryDirectory, withIntermediateDirectories: true)
        return temporaryDirectory + "/" + UUID().uuidString
    }

    public func removeBlob(_ digest: String) {
        try? FileManager.default.removeItem(atPath: blobPath(digest))
    }

    /// Every stored blob's digest.
    public func blobDigests() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: blobsDirectory)) ?? []).filter { $0.count == 64 }.map { "sha256:" + $0 }
    }

    public static func digest(of data: Data) -> String {
        "sha256:" + SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// The hex part of `sha256:<hex>` (refusing anything that could escape the directory).
    static func hex(_ digest: String) -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        return hex.allSatisfy(\.isHexDigit) ? hex : "invalid"
    }
}

/// A SHA-256 computed while a blob streams to disk.
struct DigestingWriter {
    private var hasher = SHA256()
    private let handle: FileHandle
    private(set) var count: Int64 = 0

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ImageError.transport("cannot write \(path)")
        }
        self.handle = handle
    }

    mutating func write(_ bytes: some DataProtocol) throws {
        hasher.update(data: bytes)
        try handle.write(contentsOf: bytes)
        count += Int64(bytes.count)
    }

    mutating func finish() throws -> String {
        try handle.close()
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
