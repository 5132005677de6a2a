import Foundation
import KubeModel

extension JobStrategy {
    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Status", description: "Status of the job."),
            TableColumn("Completions", description: "The number of pods which reached phase Succeeded."),
            TableColumn("Duration", description: "Time required to complete the job."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ] + AppsRules.templateColumns(selector: "A label query over pods that should match the pod count.")
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let status = object["status"] ?? .object([:])
        let (names, images) = AppsRules.containerCells(spec)
        return [
            .string(object.name ?? ""), .string(Self.statusCell(object)), .string(Self.completionsCell(spec, status)),
            .string(Self.durationCell(status, now: now)), .string(TableFormat.age(of: object, now: now)),
            .string(names), .string(images), .string(K.formatLabelSelector(spec["selector"])),
        ]
    }

    /// kubectl's STATUS: the first of Complete, Failed, Terminating, Suspended,
    /// FailureTarget, SuccessCriteriaMet that holds, else Running.
    static func statusCell(_ job: JSONValue) -> String {
        func holds(_ type: String) -> Bool {
            K.array(job[path: ["status", "conditions"]]).contains { K.string($0["type"]) == type && K.string($0["status"]) == "True" }
        }
        if holds("Complete") { return "Complete" }
        if holds("Failed") { return "Failed" }
        if job[path: ["metadata", "deletionTimestamp"]].map({ !$0.isNull }) ?? false { return "Terminating" }
        for type in ["Suspended", "FailureTarget", "SuccessCriteriaMet"] where holds(type) { return type }
        return "Running"
    }

    /// `2/5`; without completions `1/1`, or `0/1 of 3` for a work queue of 3.
    static func completionsCell(_ spec: JSONValue, _ status: JSONValue) -> String {
        let succeeded = K.int(status["succeeded"])
        if let completions = spec["completions"]?.intValue { return "\(succeeded)/\(completions)" }
        let parallelism = K.int(spec["parallelism"])
        return parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1"
    }

    static func durationCell(_ status: JSONValue, now: Date) -> String {
        guard let start = status["startTime"]?.stringValue.flatMap(Timestamp.parse) else { return "" }
        let end = status["completionTime"]?.stringValue.flatMap(Timestamp.parse) ?? now
        return TableFormat.humanDuration(end.timeIntervalSince(start))
    }
}
