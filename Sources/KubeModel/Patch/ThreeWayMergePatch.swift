/// Builds the patch `kubectl apply` sends (client-side apply): a strategic merge patch from
/// three documents, with the semantics of `strategicpatch.CreateThreeWayMergePatch`.
///
/// `original` is the last-applied configuration, `modified` the new configuration and
/// `current` the live object. The patch sets what `modified` changes or adds relative to
/// `current` (fields only the server set are left alone) and removes what `original` had and
/// `modified` dropped. An empty object means nothing to do (`kubectl apply` says `unchanged`).
/// With no schema type (`typeName` nil or unknown) lists replace, as in JSON merge patch.
public enum ThreeWayMergePatch {
    public static func create(original: JSONValue, modified: JSONValue, current: JSONValue,
                              typeName: String?, schema: Schema = .kubernetes) -> JSONValue {
        let differ = SMPDiffer(merger: StrategicMerger(schema: schema))
        let root = typeName.flatMap { schema.definition($0) }.map { schema.resolve($0) }
        let o = original.objectValue ?? [:], m = modified.objectValue ?? [:], c = current.objectValue ?? [:]
        let delta = differ.diffMaps(c, m, node: root, mode: .changesAndAdditions)
        let deletions = differ.diffMaps(o, m, node: root, mode: .deletions)
        return .object(differ.combine(deletions, delta, node: root))
    }
}

/// The two halves of a three-way diff.
enum SMPDiffMode {
    /// What `modified` sets that `from` lacks or holds differently.
    case changesAndAdditions
    /// What `from` holds that `modified` dropped.
    case deletions
}

struct SMPDiffer {
    let merger: StrategicMerger

    func diffMaps(_ from: [String: JSONValue], _ to: [String: JSONValue], node: SchemaNode?,
                  mode: SMPDiffMode) -> [String: JSONValue] {
        var patch: [String: JSONValue] = [:]
        for (key, toValue) in to {
            let field = merger.field(key, in: node)
            guard let fromValue = from[key] else {
                if mode == .changesAndAdditions { patch[key] = toValue }
                continue
            }
            switch (fromValue, toValue) {
            case (.object(let f), .object(let t)):
                if merger.strategy(of: field) == .replace {
                    if mode == .changesAndAdditions && fromValue != toValue { patch[key] = toValue }
                } else {
                    let sub = diffMaps(f, t, node: merger.resolved(field), mode: mode)
                    if !sub.isEmpty { patch[key] = .object(sub) }
                }
            case (.array(let f), .array(let t)):
                if merger.strategy(of: field) == .merge {
                    diffMergingList(key, f, t, field: field, mode: mode, into: &patch)
                } else if mode == .changesAndAdditions && !JSONPatch.jsonEqual(fromValue, toValue) {
                    patch[key] = toValue
                }
            default:
                if mode == .changesAndAdditions && !JSONPatch.jsonEqual(fromValue, toValue) { patch[key] = toValue }
            }
        }
        if mode == .deletions {
            for key in from.keys where to[key] == nil { patch[key] = .null }
        }
        return patch
    }

    private func diffMergingList(_ key: String, _ from: [JSONValue], _ to: [JSONValue], field: SchemaNode?,
                                 mode: SMPDiffMode, into patch: inout [String: JSONValue]) {
        if let mergeKey = merger.mergeKey(of: field), to.allSatisfy({ $0.objectValue != nil }),
           from.allSatisfy({ $0.objectValue != nil }) {
            let itemNode = merger.resolved(merger.items(of: field))
            var items: [JSONValue] = []
            for t in to {
                let k = t[mergeKey]
                guard let f = from.first(where: { $0[mergeKey] == k }) else {
                    if mode == .changesAndAdditions { items.append(t) }
                    continue
                }
                var sub = diffMaps(f.objectValue ?? [:], t.objectValue ?? [:], node: itemNode, mode: mode)
                if !sub.isEmpty {
                    sub[mergeKey] = k ?? .null
                    items.append(.object(sub))
                }
            }
            if mode == .deletions {
                for f in from where !to.contains(where: { $0[mergeKey] == f[mergeKey] }) {
                    items.append(.object([mergeKey: f[mergeKey] ?? .null, "$patch": "delete"]))
                }
            }
            guard !items.isEmpty else { return }
            patch[key] = .array(items)
            patch["$setElementOrder/" + key] = .array(to.map { .object([mergeKey: $0[mergeKey] ?? .null]) })
            return
        }
        // A merging list of scalars is a set: additions patch in, removals go in a directive.
        let added = to.filter { t in !from.contains { JSONPatch.jsonEqual($0, t) } }
        let removed = from.filter { f in !to.contains { JSONPatch.jsonEqual($0, f) } }
        switch mode {
        case .changesAndAdditions:
            guard !added.isEmpty else { return }
            patch[key] = .array(added)
        case .deletions:
            guard !removed.isEmpty else { return }
            patch["$deleteFromPrimitiveList/" + key] = .array(removed)
        }
        patch["$setElementOrder/" + key] = .array(to)
    }

    /// Overlays the changes on the deletions; items of merging lists that both halves name
    /// (by merge key) are combined into one.
    func combine(_ base: [String: JSONValue], _ overlay: [String: JSONValue], node: SchemaNode?) -> [String: JSONValue] {
        var out = base
        for (key, value) in overlay {
            let field = merger.field(key, in: node)
            switch (out[key], value) {
            case (.object(let b)?, .object(let o)):
                out[key] = .object(combine(b, o, node: merger.resolved(field)))
            case (.array(var b)?, .array(let o)) where !key.hasPrefix("$"):
                let mergeKey = merger.mergeKey(of: field)
                let itemNode = merger.resolved(merger.items(of: field))
                for item in o {
                    if let mergeKey, let k = item[mergeKey], let i = b.firstIndex(where: { $0[mergeKey] == k }),
                       case .object(let bi) = b[i], case .object(let oi) = item {
                        b[i] = .object(combine(bi, oi, node: itemNode))
                    } else {
                        b.append(item)
                    }
                }
                out[key] = .array(b)
            default:
                out[key] = value
            }
        }
        return out
    }
}
