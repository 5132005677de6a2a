import Foundation
import KubeModel
import Logging

/// Removes the directories of deleted local-path volumes whose reclaim policy is Delete. The
/// provisioner lives in the controller manager, possibly on another machine, so the node that
/// holds a directory removes it. Every `interval` (and at start) each directory
/// `ROOT/storage/<pv>_<ns>_<claim>` is looked at: while its PersistentVolume exists, the
/// volume's reclaim policy is remembered (an empty file `ROOT/storage/.reclaim-delete/<dir>`
/// when it is Delete, so it outlives kubelet restarts and follows policy changes); once the
/// API server answers 404 for it, a directory remembered as Delete is removed, any other kept
/// (Retain: the data stays for the administrator, as with k3s).
///
/// A volume is deleted only after its claim, and a claim only after the last pod using it
/// (`kubernetes.io/pvc-protection`), so no pod still mounts a directory removed here.
struct LocalVolumeJanitor: Sendable {
    static let markerDirectoryName = ".reclaim-delete"

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
            guard let volumeName = Self.volumeName(of: entry) else { continue }
            do {
                if let volume = try await objects.persistentVolume(name: volumeName) {
                    Self.remember(entry, in: directory, deletes: Self.deletes(volume))
                    continue
                }
                guard Self.isRemembered(entry, in: directory) else { continue }
                try FileManager.default.removeItem(atPath: directory + "/" + entry)
                try? FileManager.default.removeItem(atPath: Self.marker(entry, in: directory))
                removed.append(entry)
                logger.info("removed the directory of a deleted volume", metadata: ["volume": .string(volumeName), "directory": .string(entry)])
            } catch {
                // API server away, access refused, or removal failed: the next pass tries again.
                logger.debug("volume directory kept for now", metadata: ["directory": .string(entry), "error": .string("\(error)")])
            }
        }
        return removed
    }

    /// Whether the volume's data goes with it.
    static func deletes(_ volume: JSONValue) -> Bool {
        volume[path: ["spec", "persistentVolumeReclaimPolicy"]]?.stringValue == "Delete"
    }

    /// Remembers (or forgets) that the directory `entry` goes once its volume is deleted.
    static func remember(_ entry: String, in directory: String, deletes: Bool) {
        let marker = marker(entry, in: directory)
        if deletes {
            guard !FileManager.default.fileExists(atPath: marker) else { return }
            try? FileManager.default.createDirectory(atPath: directory + "/" + markerDirectoryName, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
        } else {
            try? FileManager.default.removeItem(atPath: marker)
        }
    }

    static func isRemembered(_ entry: String, in directory: String) -> Bool {
        FileManager.default.fileExists(atPath: marker(entry, in: directory))
    }

    static func marker(_ entry: String, in directory: String) -> String {
        directory + "/" + markerDirectoryName + "/" + entry
    }

    /// `<pv>_<ns>_<claim>` → `<pv>` (names of volumes, namespaces and claims have no `_`).
    static func volumeName(of entry: String) -> String? {
        let parts = entry.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        return String(parts[0])
    }
}
