import Foundation

/// A Job's index lists as the API writes them (`status.completedIndexes`,
/// `status.failedIndexes`, `successPolicy.rules[].succeededIndexes`): ascending intervals
/// such as `1,3-5,7`.
public enum JobIndexes {
    /// Parses a list; nil when malformed, unordered, overlapping or not below `limit`.
    public static func parse(_ text: String, below limit: Int) -> IndexSet? {
        var set = IndexSet()
        guard !text.isEmpty else { return set }
        var last = -1
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]), let hi = Int(bounds[bounds.count - 1]),
                  lo >= 0, lo <= hi, lo > last, hi < limit else { return nil }
            set.insert(integersIn: lo...hi)
            last = hi
        }
        return set
    }

    /// Formats as ascending intervals, `a-b` for runs of two or more.
    public static func format(_ set: IndexSet) -> String {
        set.rangeView.map { r in r.count == 1 ? String(r.lowerBound) : "\(r.lowerBound)-\(r.upperBound - 1)" }.joined(separator: ",")
    }
}
