// List merging and ordering for `StrategicMergePatch`.

extension StrategicMerger {
    /// Patches list `original` with list `patch`, by the strategy of the list's schema `field`.
    func mergeList(
        _ original: [JSONValue], _ patch: [JSONValue], field: SchemaNode?, path: SMPPath, depth: Int
    ) throws(StrategicMergePatchError) -> [JSONValue] {
        try checkDepth(depth, path)
        let itemNode = items(of: field)
        guard strategy(of: field) == .merge else {
            return try buildList(patch, items: itemNode, path: path, depth: depth)
        }
        if patch.isEmpty { return original }
        if let key = mergeKey(of: field) {
            return try mergeObjectList(original, patch, mergeKey: key, items: itemNode, path: path, depth: depth).items
        }
        return try mergeScalarList(original, patch, path: path)
    }

    /// A merging list of objects identified by `mergeKey` (containers by `name`, ...).
    ///
    /// Also returns the merge keys `$setElementOrder` must treat as the original order. Go
    /// deletes and appends in place, in the array its caller still reads as the original, so
    /// that caller sees the surviving items followed by the added ones, cut to the original
    /// length; `kubectl apply` results depend on it (items the patch does not name keep
    /// their place relative to added ones).
    func mergeObjectList(
        _ original: [JSONValue], _ patch: [JSONValue], mergeKey: String, items itemNode: SchemaNode?,
        path: SMPPath, depth: Int
    ) throws(StrategicMergePatchError) -> (items: [JSONValue], serverView: [SMPItemKey]) {
        for (i, item) in original.enumerated() {
            guard case .object = item else {
                throw SMPPath.item(path, i).error(
                    "existing list item is \(StrategicMergePatch.kindName(item)); a list merged by \"\(mergeKey)\" holds objects")
            }
        }
        var gone: Set<SMPItemKey> = []
        var regular: [(index: Int, item: [String: JSONValue])] = []
        var replace = false
        for (i, item) in patch.enumerated() {
            let itemPath = SMPPath.item(path, i)
            guard case .object(let o) = item else {
                throw itemPath.error(
                    "expected an object in a list merged by \"\(mergeKey)\", got \(StrategicMergePatch.kindName(item))")
            }
            guard let directive = o[SMPDirective.patch] else {
                regular.append((i, o))
                continue
            }
            switch directive.stringValue {
            case "delete":
                guard let value = o[mergeKey] else {
                    throw itemPath.error("$patch: delete item does not contain the merge key \"\(mergeKey)\"")
                }
                gone.insert(SMPItemKey(value))
            case "replace":
                replace = true
            case "merge":
                regular.append((i, o))  // the object merge drops the marker
            default:
                throw itemPath.error("unknown $patch directive \(describe(directive)) in a list item")
            }
        }
        if replace {
            // The patch's other items are the whole list, taken as given.
            let items = try buildList(regular.map { .object($0.item) }, items: itemNode, path: path, depth: depth)
            return (items, original.map { key(of: $0, mergeKey) })
        }

        // Every item with a deleted key goes, duplicates included; items without the key stay.
        var base = original
        if !gone.isEmpty {
            base.removeAll { item in item[mergeKey].map { gone.contains(SMPItemKey($0)) } ?? false }
        }
        let serverOrder = firstIndexes(base.map { key(of: $0, mergeKey) })
        var found: [SMPItemKey: Int] = [:]
        for (i, item) in base.enumerated() {
            // Only items that have the key can match; the first of duplicates is the one merged.
            if let v = item[mergeKey], found[SMPItemKey(v)] == nil { found[SMPItemKey(v)] = i }
        }
        for (i, o) in regular {
            let itemPath = SMPPath.item(path, i)
            guard let value = o[mergeKey] else {
                throw itemPath.error("list item does not contain the merge key \"\(mergeKey)\"")
            }
            let k = SMPItemKey(value)
            if let at = found[k], case .object(let existing) = base[at] {
                base[at] = .object(try mergeMap(existing, o, node: resolved(itemNode), path: itemPath, depth: depth + 1))
            } else if let v = try build(.object(o), field: itemNode, path: itemPath, depth: depth + 1) {
                // Later patch items with the same key merge into this one, as in Go.
                found[k] = base.count
                base.append(v)
            }
        }

        let patchOrder = firstIndexes(regular.map { SMPItemKey($0.item[mergeKey] ?? .null) })
        let view = base.prefix(original.count).map { key(of: $0, mergeKey) }
        let items = normalizeOrder(base, patchOrder: patchOrder, serverOrder: serverOrder) { key(of: $0, mergeKey) }
        return (items, view)
    }

    /// A merging list of scalars (`finalizers`): an ordered set union.
    func mergeScalarList(
        _ original: [JSONValue], _ patch: [JSONValue], path: SMPPath
    ) throws(StrategicMergePatchError) -> [JSONValue] {
        var values: [JSONValue] = []
        var replace = false
        for (i, item) in patch.enumerated() {
            switch item {
            case .object(let o) where o.count == 1 && o[SMPDirective.patch]?.stringValue == "replace":
                replace = true
            case .object, .array:
                throw SMPPath.item(path, i).error(
                    "expected a scalar in a list merged as a set, got \(StrategicMergePatch.kindName(item))")
            default:
                values.append(item)
            }
        }
        if replace { return values }
        for (i, item) in original.enumerated() {
            switch item {
            case .object, .array:
                throw SMPPath.item(path, i).error(
                    "existing list item is \(StrategicMergePatch.kindName(item)); a list merged as a set holds scalars")
            default: break
            }
        }
        var seen: Set<SMPItemKey> = []
        var merged: [JSONValue] = []
        for item in original + values where seen.insert(SMPItemKey(item)).inserted { merged.append(item) }
        return normalizeOrder(
            merged, patchOrder: firstIndexes(values.map(SMPItemKey.init)),
            serverOrder: firstIndexes(original.map(SMPItemKey.init)), key: SMPItemKey.init)
    }

    // MARK: $setElementOrder

    /// `$setElementOrder/<name>`: merges the list `name` (if the patch has it) and then puts the
    /// items named in `order` in that order, interleaving the rest by their original positions.
    func applyElementOrder(
        _ order: JSONValue, name: String, listPatch: JSONValue?, into result: inout [String: JSONValue],
        node: SchemaNode?, path: SMPPath, depth: Int
    ) throws(StrategicMergePatchError) {
        let listPath = SMPPath.field(path, name)
        guard case .array(let orderList) = order else {
            throw path.error("$setElementOrder/\(name) must be a list, got \(StrategicMergePatch.kindName(order))")
        }
        let fieldNode = field(name, in: node)
        let mergeKey = mergeKey(of: fieldNode)
        var originalList: [JSONValue]?
        if let v = result[name] {
            guard case .array(let a) = v else {
                throw listPath.error("$setElementOrder applies to a list, but the field is \(StrategicMergePatch.kindName(v))")
            }
            originalList = a
        }
        var patchList: [JSONValue]?
        if let v = listPatch {
            guard case .array(let a) = v else {
                throw listPath.error("expected a list next to $setElementOrder/\(name), got \(StrategicMergePatch.kindName(v))")
            }
            patchList = a
        }
        if let mergeKey {
            for (i, entry) in orderList.enumerated() where entry[mergeKey] == nil {
                throw path.error("$setElementOrder/\(name)[\(i)] does not contain the merge key \"\(mergeKey)\"")
            }
        }
        try validateOrder(patchList ?? [], orderList, mergeKey: mergeKey, name: name, path: path)

        let keyFn: (JSONValue) -> SMPItemKey = { item in
            if let mergeKey { return key(of: item, mergeKey) }
            return SMPItemKey(item)
        }
        let merged: [JSONValue]
        var serverView = (originalList ?? []).map(keyFn)
        switch (originalList, patchList) {
        case (let o?, nil): merged = o
        case (nil, let p?): merged = try buildList(p, items: items(of: fieldNode), path: listPath, depth: depth + 1)
        case (let o?, let p?):
            if let mergeKey, strategy(of: fieldNode) == .merge, !p.isEmpty {
                (merged, serverView) = try mergeObjectList(
                    o, p, mergeKey: mergeKey, items: items(of: fieldNode), path: listPath, depth: depth + 1)
            } else {
                merged = try mergeList(o, p, field: fieldNode, path: listPath, depth: depth + 1)
            }
        case (nil, nil): return
        }
        result[name] = .array(
            normalizeOrder(
                merged, patchOrder: firstIndexes(orderList.map(keyFn)), serverOrder: firstIndexes(serverView),
                key: keyFn))
    }

    /// The patch list must name its items in the same relative order as `$setElementOrder`,
    /// and only items it names (delete items excepted).
    func validateOrder(
        _ patchList: [JSONValue], _ orderList: [JSONValue], mergeKey: String?, name: String, path: SMPPath
    ) throws(StrategicMergePatchError) {
        let items = patchList.filter { $0[SMPDirective.patch] == nil }
        let keyFn: (JSONValue) -> SMPItemKey = { item in
            if let mergeKey { return SMPItemKey(item[mergeKey] ?? .null) }
            return SMPItemKey(item)
        }
        if let mergeKey {
            for (i, item) in items.enumerated() where item[mergeKey] == nil {
                throw SMPPath.item(.field(path, name), i).error("list item does not contain the merge key \"\(mergeKey)\"")
            }
        }
        var p = 0
        var o = 0
        while p < items.count && o < orderList.count {
            if keyFn(items[p]) == keyFn(orderList[o]) { p += 1 }
            o += 1
        }
        if p < items.count {
            throw path.error("the items of \"\(name)\" are not in the order given by $setElementOrder/\(name)")
        }
    }

    // MARK: Ordering

    /// Orders a merged list as Go does: the items named by the patch (`patchOrder`) in the
    /// patch's order, the other items in their original order, the two interleaved using the
    /// original positions (`serverOrder`) where both items have one.
    func normalizeOrder(
        _ merged: [JSONValue], patchOrder: [SMPItemKey: Int], serverOrder: [SMPItemKey: Int],
        key: (JSONValue) -> SMPItemKey
    ) -> [JSONValue] {
        var fromPatch: [(rank: Int, offset: Int, item: JSONValue)] = []
        var serverOnly: [(rank: Int, offset: Int, item: JSONValue)] = []
        for (offset, item) in merged.enumerated() {
            let k = key(item)
            if let rank = patchOrder[k] {
                fromPatch.append((rank, offset, item))
            } else {
                serverOnly.append((serverOrder[k] ?? -1, offset, item))
            }
        }
        // Stable sorts: ties (duplicate keys) keep their merged order.
        fromPatch.sort { ($0.rank, $0.offset) < ($1.rank, $1.offset) }
        serverOnly.sort { ($0.rank, $0.offset) < ($1.rank, $1.offset) }

        var out: [JSONValue] = []
        out.reserveCapacity(merged.count)
        var i = 0
        var j = 0
        while i < serverOnly.count || j < fromPatch.count {
            if j >= fromPatch.count {
                out.append(serverOnly[i].item)
                i += 1
            } else if i >= serverOnly.count {
                out.append(fromPatch[j].item)
                j += 1
            } else if let l = serverOrder[key(serverOnly[i].item)], let r = serverOrder[key(fromPatch[j].item)], l < r {
                out.append(serverOnly[i].item)
                i += 1
            } else {
                out.append(fromPatch[j].item)
                j += 1
            }
        }
        return out
    }

    /// Merge-key identity of an object item; a missing key counts as `null`, as in Go.
    func key(of item: JSONValue, _ mergeKey: String) -> SMPItemKey { SMPItemKey(item[mergeKey] ?? .null) }

    /// Position of the first occurrence of each key.
    func firstIndexes(_ keys: [SMPItemKey]) -> [SMPItemKey: Int] {
        var out: [SMPItemKey: Int] = [:]
        for (i, k) in keys.enumerated() where out[k] == nil { out[k] = i }
        return out
    }
}
