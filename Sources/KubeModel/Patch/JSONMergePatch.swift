/// RFC 7386 JSON Merge Patch (`application/merge-patch+json`).
public enum JSONMergePatch {
    /// Applies `patch` to `target`: object members merge recursively, `null` deletes a member,
    /// and any non-object patch replaces the target outright.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var result: [String: JSONValue]
        if case .object(let t) = target { result = t } else { result = [:] }
        for (key, value) in p {
            if value.isNull {
                result.removeValue(forKey: key)
            } else if case .object = value {
                let current = result.removeValue(forKey: key) ?? .null
                result[key] = apply(value, to: current)
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `original` into `modified`, so that
    /// `apply(create(from: a, to: b), to: a) == b` whenever `b` holds no `null` members
    /// (merge patches cannot set a member to null).
    public static func create(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard case .object(let o) = original, case .object(let m) = modified else { return modified }
        var diff: [String: JSONValue] = [:]
        for key in o.keys where m[key] == nil { diff[key] = .null }
        for (key, newValue) in m {
            guard let oldValue = o[key] else {
                diff[key] = newValue
                continue
            }
            if JSONPatch.jsonEqual(oldValue, newValue) { continue }
            if case .object = oldValue, case .object = newValue {
                diff[key] = create(from: oldValue, to: newValue)
            } else {
                diff[key] = newValue
            }
        }
        return .object(diff)
    }
}
