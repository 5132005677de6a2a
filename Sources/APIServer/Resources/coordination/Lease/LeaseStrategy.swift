import Foundation
import KubeModel

/// coordination.k8s.io/v1 Lease: leader election and node heartbeats.
public struct LeaseStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "coordination.k8s.io", versions: ["v1"], kind: "Lease", plural: "leases", namespaced: true,
        schemaNames: ["v1": "io.k8s.api.coordination.v1.Lease"])

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        if let d = object[path: ["spec", "leaseDurationSeconds"]]?.intValue, d <= 0 {
            errs.append(.invalid("spec.leaseDurationSeconds", String(d), "must be greater than 0"))
        }
        errs += K.nonnegative(object[path: ["spec", "leaseTransitions"]], "spec.leaseTransitions")
        if let s = object[path: ["spec", "strategy"]]?.stringValue, !s.isEmpty {
            errs += K.enumValue(.string(s), "spec.strategy", ["OldestEmulationVersion"])
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Holder", description: "holderIdentity contains the identity of the holder of a current lease."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .string(K.string(object[path: ["spec", "holderIdentity"]])), .string(TableFormat.age(of: object, now: now))]
    }
}
