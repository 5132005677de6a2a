import Foundation
import KubeModel

/// batch/v1 CronJob: creates a Job from `jobTemplate` at each time of `schedule` (cron
/// syntax, in `timeZone` or the controller manager's zone). The cronjob controller writes
/// `status`.
public struct CronJobStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    /// A CronJob's name plus the 11-character suffix of its Jobs fits a label value.
    static let maxNameLength = 52

    public init() {}

    public let definition = ResourceDefinition(
        group: "batch", versions: ["v1"], kind: "CronJob", plural: "cronjobs", shortNames: ["cj"],
        namespaced: true, categories: ["all"], subresources: [.status],
        schemaNames: ["v1": "io.k8s.api.batch.v1.CronJob"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "concurrencyPolicy", "Allow")
        K.fill(&spec, "suspend", false)
        K.fill(&spec, "successfulJobsHistoryLimit", 3)
        K.fill(&spec, "failedJobsHistoryLimit", 1)
        K.withChild(&spec, "jobTemplate") { template in
            K.withChild(&template, "spec") { AppsRules.defaultTemplate(&$0) }
        }
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs: [FieldError] = []
        if let name = object.name, name.count > Self.maxNameLength {
            errs.append(.invalid("metadata.name", FieldError.show(.string(name)), "must be no more than \(Self.maxNameLength) characters"))
        }
        errs += Self.validateSchedule(spec)
        errs += K.enumValue(spec["concurrencyPolicy"], "spec.concurrencyPolicy", ["Allow", "Forbid", "Replace"])
        for field in ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
            errs += K.nonnegative(spec[field], "spec.\(field)")
        }
        let template = spec["jobTemplate"] ?? .object([:])
        errs += NameValidation.validateLabels(template[path: ["metadata", "labels"]], path: "spec.jobTemplate.metadata.labels")
        errs += NameValidation.validateAnnotations(template[path: ["metadata", "annotations"]], path: "spec.jobTemplate.metadata.annotations")
        let jobSpec = template["spec"] ?? .object([:])
        errs += JobValidation.validateSpec(jobSpec, path: "spec.jobTemplate.spec", requireSelector: false)
        if jobSpec["manualSelector"]?.boolValue == true {
            errs.append(.notSupported("spec.jobTemplate.spec.manualSelector", "true", ["nil", "false"]))
        }
        return errs
    }

    /// The schedule parses (no `TZ=`/`CRON_TZ=`), and `timeZone` names a known zone.
    static func validateSchedule(_ spec: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let schedule = K.string(spec["schedule"])
        if schedule.isEmpty {
            errs.append(.required("spec.schedule", ""))
        } else if schedule.contains("TZ") {
            errs.append(.invalid("spec.schedule", FieldError.show(.string(schedule)), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
        } else {
            do { _ = try CronSchedule(parsing: schedule) } catch {
                errs.append(.invalid("spec.schedule", FieldError.show(.string(schedule)), error.description))
            }
        }
        if let zone = spec["timeZone"]?.stringValue {
            if zone.isEmpty || zone.contains(" ") || zone.lowercased() == "local" || TimeZone(identifier: zone) == nil {
                errs.append(.invalid("spec.timeZone", FieldError.show(.string(zone)), "unknown time zone \(zone)"))
            }
        }
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { [] }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Schedule", description: "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
            TableColumn("Timezone", description: "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
            TableColumn("Suspend", type: "boolean", description: "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions."),
            TableColumn("Active", type: "integer", description: "A list of pointers to currently running jobs."),
            TableColumn("Last Schedule", description: "Information when was the last time the job was successfully scheduled."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ] + AppsRules.templateColumns(selector: "A label query over pods that should match the pod count.")
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let jobSpec = spec[path: ["jobTemplate", "spec"]] ?? .object([:])
        let (names, images) = AppsRules.containerCells(jobSpec)
        let last = object[path: ["status", "lastScheduleTime"]].flatMap { $0.isNull ? nil : $0 }
        let suspend = spec["suspend"]?.boolValue.map { $0 ? "True" : "False" } ?? "<unset>"
        return [
            .string(object.name ?? ""), .string(K.string(spec["schedule"])), .string(spec["timeZone"]?.stringValue ?? "<none>"),
            .string(suspend), .int(Int64(K.array(object[path: ["status", "active"]]).count)),
            .string(last.map { K.since($0, now: now) } ?? "<none>"), .string(TableFormat.age(of: object, now: now)),
            .string(names), .string(images), .string(K.formatLabelSelector(jobSpec["selector"])),
        ]
    }
}
