import Foundation
import KubeModel

/// Wakes waiters when a shim writes a container's `exit` record (inotify on the container
/// directories), so a pod worker restarts a container as soon as it ends instead of on its
/// next periodic sync. One reader thread serves every watch; it polls with a short timeout
/// and ends once nothing is watched, so no thread outlives the waits.
final class ExitRecordWatcher: Sendable {
    private struct Watch {
        var directory: String
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private struct State {
        var fd: Int32 = -1
        var byDescriptor: [Int32: Watch] = [:]
        var descriptorByDirectory: [String: Int32] = [:]
        var nextWaiter: UInt64 = 0
        var readerRunning = false
    }

    private let state = Locked(State())

    /// Returns once `directory/exit` exists or the calling task is cancelled; at once when
    /// the directory cannot be watched (the caller's periodic look still covers it).
    func waitForExitRecord(in directory: String) async {
        let exitPath = directory + "/exit"
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                guard !Task.isCancelled, register(id, c, directory: directory) else { return c.resume() }
                // Written before the watch existed: nothing more will come for it.
                if FileManager.default.fileExists(atPath: exitPath) { resume(id, directory: directory) }
            }
        } onCancel: {
            resume(id, directory: directory)
        }
    }

    /// Adds the waiter (and the directory's watch, and the reader thread, when missing).
    private func register(_ id: UInt64, _ c: CheckedContinuation<Void, Never>, directory: String) -> Bool {
        let startReader = state.withLock { s -> Bool? in
            if s.fd < 0 {
                s.fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
                if s.fd < 0 { return nil }
            }
            let wd: Int32
            if let existing = s.descriptorByDirectory[directory] {
                wd = existing
            } else {
                wd = inotify_add_watch(s.fd, directory, UInt32(IN_MOVED_TO | IN_CLOSE_WRITE))
                if wd < 0 { return nil }
                s.descriptorByDirectory[directory] = wd
                s.byDescriptor[wd] = Watch(directory: directory)
            }
            s.byDescriptor[wd]?.waiters[id] = c
            if s.readerRunning { return false }
            s.readerRunning = true
            return true
        }
        guard let startReader else { return false }
        if startReader {
            let thread = Thread { [self] in readEvents() }
            thread.name = "caravel-exit-watch"
            thread.start()
        }
        return true
    }

    /// Resumes one waiter (if still waiting) and drops the directory's watch once unwatched.
    private func resume(_ id: UInt64, directory: String) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let wd = s.descriptorByDirectory[directory],
                  let c = s.byDescriptor[wd]?.waiters.removeValue(forKey: id) else { return nil }
            if s.byDescriptor[wd]?.waiters.isEmpty == true { Self.unwatch(wd, in: &s) }
            return c
        }
        waiter?.resume()
    }

    private static func unwatch(_ wd: Int32, in s: inout State) {
        guard let watch = s.byDescriptor.removeValue(forKey: wd) else { return }
        s.descriptorByDirectory[watch.directory] = nil
        _ = inotify_rm_watch(s.fd, wd)
    }

    /// The reader thread: wakes the waiters of a directory whose `exit` appeared; ends (and
    /// closes the descriptor) when no watch is left.
    private func readEvents() {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let fd = state.withLock { s -> Int32 in
                guard s.byDescriptor.isEmpty else { return s.fd }
                s.readerRunning = false
                if s.fd >= 0 { close(s.fd) }
                s.fd = -1
                return -1
            }
            if fd < 0 { return }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 500) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { continue }
            var woken: [CheckedContinuation<Void, Never>] = []
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= n {
                let (wd, length) = buffer.withUnsafeBytes { raw -> (Int32, Int) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, Int(event.len))
                }
                let nameBytes = buffer[(offset + header)..<min(n, offset + header + length)]
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                if name == "exit" {
                    state.withLock { s in
                        guard let watch = s.byDescriptor[wd] else { return }
                        woken += watch.waiters.values
                        Self.unwatch(wd, in: &s)
                    }
                }
                offset += header + length
            }
            for c in woken { c.resume() }
        }
    }
}
