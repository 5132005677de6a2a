import KubeModel

/// The `pod-template-hash` label value of a Deployment's template: FNV-1a (32-bit) of the
/// template's canonical JSON (sorted keys) plus the collision count, written with the
/// consonant-and-digit alphabet Kubernetes uses so it never spells words. Stable across runs
/// and processes, which is what lets a restarted controller find its ReplicaSets again.
public enum PodTemplateHash {
    /// The label key.
    public static let label = "pod-template-hash"
    private static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// The hash of `template`, ignoring any `pod-template-hash` label already in it.
    public static func of(_ template: JSONValue, collisionCount: Int = 0) -> String {
        var hash: UInt32 = 2_166_136_261
        func feed<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes {
                hash ^= UInt32(b)
                hash = hash &* 16_777_619
            }
        }
        feed(JSONWriter.bytes(withoutHash(template)))
        if collisionCount > 0 { feed(String(collisionCount).utf8) }
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    /// `template` without the `pod-template-hash` label (the form two templates are compared in).
    public static func withoutHash(_ template: JSONValue) -> JSONValue {
        var t = template
        guard var labels = t[path: ["metadata", "labels"]]?.objectValue else { return t }
        labels[label] = nil
        t[path: ["metadata", "labels"]] = labels.isEmpty ? nil : .object(labels)
        return t
    }
}
