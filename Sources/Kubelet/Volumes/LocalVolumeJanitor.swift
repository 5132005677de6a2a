import Foundation
import KubeModel
import Logging

/// Removes the directories of local-path volumes that no longer exist. The provisioner lives
/// in the controller manager and may run on another machine, so the node that holds a
/// directory is the one to remove it: every `interval` (and at start) each directory
/// `ROOT/storage/<pv>_<ns>_<claim>` whose PersistentVolume the API server answers 404 for is
/// deleted. A volume is deleted only after its claim, and a claim only after the last pod
/// using it (`kubernetes.io/pvc-protection`), so no pod still mounts such a directory.
/// Volumes of reclaim policy Retain stay (Released), and so does their data.
struct LocalVolumeJanitor: Sendable {
    let directory: String
    let objects: any ObjectSource
    let interval: Duration
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            await sweep()
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// One pass; returns the directories removed.
    @discardableResult
    func sweep() async -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed: [String] = []
        for entry in entries.sorted() {
            guard let volume = Self.volumeName(of: entry) else { continue }
            do {
                guard try await objects.persistentVolume(name: volume) == nil else { continue }
                try FileManager.default.removeItem(atPath: directory + "/" + entry)
                removed.append(entry)
                logger.info("removed the directory of deleted volume", metadata: ["volume": .string(volume), "directory": .string(entry)])
            } catch {
                // API server away or removal failed: the next pass tries again.
                logger.debug("volume directory kept for now", metadata: ["directory": .string(entry), "error": .string("\(error)")])
            }
        }
        return removed
    }

    /// `<pv>_<ns>_<claim>` → `<pv>` (names of volumes, namespaces and claims have no `_`).
    static func volumeName(of entry: String) -> String? {
        let parts = entry.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return String(parts[0])
    }
}
