import Foundation
import KubeClient

/// One container's log copied to stdout, each line behind `label` (kubectl's `--prefix`).
struct LogStream: Sendable {
    var client: KubeRESTClient
    var path: String
    var query: [String: String]
    var label: String

    /// `wholeLines` holds output back until a line ends, so concurrent streams never split a line.
    func copy(wholeLines: Bool) async throws {
        var pending: [UInt8] = []
        for try await chunk in try await client.stream(path, query: query) {
            if !wholeLines { FileHandle.standardOutput.write(Data(chunk)); continue }
            pending += chunk
            if let last = pending.lastIndex(of: 0x0A) {
                write(pending[...last])
                pending.removeSubrange(...last)
            }
        }
        if !pending.isEmpty { write(pending[...]) }
    }

    private func write(_ lines: ArraySlice<UInt8>) {
        var out: [UInt8] = []
        for line in lines.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(lines.last == 0x0A ? 1 : 0) {
            out += Array(label.utf8) + line + [0x0A]
        }
        if lines.last != 0x0A, !out.isEmpty { out.removeLast() }
        // One write per batch of whole lines: concurrent streams interleave only between lines.
        FileHandle.standardOutput.write(Data(out))
    }
}
