/// The access modes of PersistentVolumes and claims, shared by the API server (validation,
/// `kubectl get` columns) and the controllers (binding).
public enum VolumeAccessModes {
    /// The four modes, in the order `kubectl get pv|pvc` prints them.
    public static let all = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
    static let abbreviations = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]

    /// `helper.GetAccessModesAsString`: `RWO,RWX`, each mode once, in the fixed order.
    public static func abbreviated(_ modes: JSONValue?) -> String {
        let given = Set(strings(modes))
        return all.filter(given.contains).compactMap { abbreviations[$0] }.joined(separator: ",")
    }

    /// The mode names of a JSON array (non-strings dropped).
    public static func strings(_ modes: JSONValue?) -> [String] {
        (modes?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// Whether a volume offering `offered` serves every mode a claim `requested`.
    public static func satisfies(offered: JSONValue?, requested: JSONValue?) -> Bool {
        Set(strings(requested)).isSubset(of: Set(strings(offered)))
    }
}
