import Foundation
import Testing

@testable import APIServer

@Suite struct SecureFileTests {
    func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-securefile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func pathOf(_ fd: Int32) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? "fd \(fd)"
    }

    @Test func syncsTheFileBeforeTheRenameAndTheDirectoryAfter() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/encryption-keys.json"
        var synced: [String] = []
        try SecureFile.writeAtomically(path, "new", mode: 0o600) { fd in
            synced.append(Self.pathOf(fd))
            return fsync(fd)
        }
        // The new bytes are on disk before the name points at them, and the rename itself is
        // on disk before the caller goes on (e.g. to re-encrypt Secrets with a new key).
        #expect(synced == [path + ".tmp", dir])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
    }

    @Test func aFailedSyncFailsTheWriteAndKeepsTheOldFile() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/encryption-keys.json"
        try SecureFile.writeAtomically(path, "old", mode: 0o600)
        #expect(throws: PKIError.self) {
            try SecureFile.writeAtomically(path, "new", mode: 0o600) { _ in errno = EIO; return -1 }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
    }
}
