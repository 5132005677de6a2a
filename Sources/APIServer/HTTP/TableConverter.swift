import Foundation
import KubeModel

/// Renders objects as `meta.k8s.io/v1` Tables (server-side printing for `kubectl get`) or as
/// PartialObjectMetadata.
enum TableConverter {
    static func columnDefinitions(_ strategy: any ResourceStrategy) -> JSONValue {
        .array(strategy.tableColumns.map { c in
            ["name": .string(c.name), "type": .string(c.type), "format": .string(c.format),
             "description": .string(c.description), "priority": .int(Int64(c.priority))]
        })
    }

    /// `includeObject`: None, Metadata (default) or Object.
    static func row(_ object: JSONValue, strategy: any ResourceStrategy, includeObject: String, now: Date) -> JSONValue {
        var row: JSONValue = ["cells": .array(strategy.tableCells(for: object, now: now))]
        switch includeObject {
        case "None": break
        case "Object": row["object"] = object
        default: row["object"] = partialMetadata(object)
        }
        return row
    }

    static func table(_ objects: [JSONValue], strategy: any ResourceStrategy, includeObject: String, listMeta: JSONValue) -> JSONValue {
        let now = Date()
        return [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": listMeta,
            "columnDefinitions": columnDefinitions(strategy),
            "rows": .array(objects.map { row($0, strategy: strategy, includeObject: includeObject, now: now) }),
        ]
    }

    static func partialMetadata(_ object: JSONValue) -> JSONValue {
        ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object.metadata]
    }

    static func partialMetadataList(_ objects: [JSONValue], listMeta: JSONValue) -> JSONValue {
        ["kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": listMeta, "items": .array(objects.map(partialMetadata))]
    }
}
