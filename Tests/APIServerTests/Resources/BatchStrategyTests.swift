import Foundation
import Testing
@testable import APIServer
import KubeModel

/// batch/v1 Job and CronJob strategies: defaults, the generated selector, validation and
/// kubectl's table cells.
@Suite struct BatchStrategyTests {
    let jobs = JobStrategy()
    let cronJobs = CronJobStrategy()

    func job(_ spec: [String: JSONValue] = [:], restartPolicy: JSONValue = "Never") -> JSONValue {
        var s: JSONValue = ["template": ["spec": ["restartPolicy": restartPolicy, "containers": [["name": "pi", "image": "perl"]]]]]
        for (k, v) in spec { s[k] = v }
        return ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "pi", "namespace": "default", "uid": "u-1"], "spec": s]
    }

    /// Defaults and the server's create preparation, as the registry runs them.
    func created(_ o: JSONValue) -> JSONValue {
        var x = o
        jobs.applyDefaults(to: &x)
        jobs.prepareForCreate(&x)
        return x
    }

    @Test func jobDefaultsAndGeneratedSelector() {
        let o = created(job())
        let spec = o["spec"] ?? .null
        #expect(spec["parallelism"] == 1 && spec["completions"] == 1 && spec["backoffLimit"] == 6)
        #expect(spec["completionMode"] == "NonIndexed" && spec["suspend"] == false && spec["manualSelector"] == false)
        #expect(spec["podReplacementPolicy"] == "TerminatingOrFailed")
        #expect(spec["selector"] == ["matchLabels": ["batch.kubernetes.io/controller-uid": "u-1"]])
        #expect(spec[path: ["template", "metadata", "labels"]] == [
            "batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
            "controller-uid": "u-1", "job-name": "pi",
        ])
        #expect(jobs.validate(o).isEmpty)
        // A work queue: parallelism without completions leaves completions unset.
        let queue = created(job(["parallelism": 3]))
        #expect(queue[path: ["spec", "completions"]] == nil)
        let withPolicy = created(job(["podFailurePolicy": ["rules": [["action": "Ignore", "onPodConditions": [["type": "DisruptionTarget"]]]]]]))
        #expect(withPolicy[path: ["spec", "podReplacementPolicy"]] == "Failed")
        #expect(withPolicy[path: ["spec", "podFailurePolicy", "rules"]]?.arrayValue?.first?["onPodConditions"]?.arrayValue?.first?["status"] == "True")
        #expect(jobs.validate(withPolicy).isEmpty)
    }

    @Test func jobValidation() {
        func messages(_ o: JSONValue) -> [String] { jobs.validate(created(o)).map(\.message) }
        #expect(messages(job(restartPolicy: "Always")) == [
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
        ])
        #expect(messages(job(["completionMode": "Indexed", "completions": .null, "parallelism": 2])) == [
            "spec.completions: Required value: when completion mode is Indexed",
        ])
        #expect(messages(job(["completionMode": "Indexed", "completions": 100_001])) == [
            "spec.completions: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed",
        ])
        #expect(messages(job(["backoffLimit": -1])) == ["spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"])
        #expect(messages(job(["successPolicy": ["rules": [["succeededCount": 1]]]])).first?.contains("requires indexed completion mode") == true)
        let onFailure = job(["podFailurePolicy": ["rules": [["action": "FailJob", "onExitCodes": ["operator": "In", "values": [0]]]]]],
                            restartPolicy: "OnFailure")
        #expect(Set(messages(onFailure)) == [
            "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
            "spec.template.spec.restartPolicy: Invalid value: \"OnFailure\": only \"Never\" is supported when podFailurePolicy is specified",
        ])
        // A selector that is not the generated one.
        var manual = created(job())
        manual[path: ["spec", "selector", "matchLabels", "batch.kubernetes.io/controller-uid"]] = "other"
        #expect(jobs.validate(manual).map(\.field).contains("spec.selector"))
    }

    @Test func jobUpdateKeepsSelectorTemplateAndCompletions() {
        let old = created(job(["completions": 3]))
        var changed = old
        changed[path: ["spec", "completions"]] = 4
        var containers = changed[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
        containers[0]["image"] = "perl:2"
        changed[path: ["spec", "template", "spec", "containers"]] = .array(containers)
        changed[path: ["spec", "parallelism"]] = 2
        let fields = Set(jobs.validateUpdate(changed, old: old).map(\.field))
        #expect(fields == ["spec.completions", "spec.template"])
        // Suspended and never started: scheduling directives may change.
        var suspended = created(job(["suspend": true]))
        var moved = suspended
        moved[path: ["spec", "template", "spec", "nodeSelector"]] = ["zone": "a"]
        #expect(jobs.validateUpdate(moved, old: suspended).isEmpty)
        suspended["status"] = ["startTime": "2026-01-01T00:00:00Z"]
        #expect(!jobs.validateUpdate(moved, old: suspended).isEmpty)
    }

    @Test func jobTableCells() {
        let now = Date(timeIntervalSince1970: 1_800_000_600)
        var o = created(job(["completions": 5, "parallelism": 2]))
        o[path: ["metadata", "creationTimestamp"]] = .string(Timestamp.format(Date(timeIntervalSince1970: 1_800_000_000)))
        o["status"] = ["succeeded": 5, "startTime": .string(Timestamp.format(Date(timeIntervalSince1970: 1_800_000_000))),
                       "completionTime": .string(Timestamp.format(Date(timeIntervalSince1970: 1_800_000_042))),
                       "conditions": [["type": "Complete", "status": "True"]]]
        #expect(jobs.tableColumns.map(\.name) == ["Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"])
        #expect(jobs.tableCells(for: o, now: now) == ["pi", "Complete", "5/5", "42s", "10m", "pi", "perl", "batch.kubernetes.io/controller-uid=u-1"])
        var running = created(job(["parallelism": 3, "completions": .null]))
        running["status"] = ["active": 3]
        let cells = jobs.tableCells(for: running, now: now)
        #expect(cells[1] == "Running" && cells[2] == "0/1 of 3" && cells[3] == "")
    }

    func cronJob(_ spec: [String: JSONValue]) -> JSONValue {
        var s: JSONValue = ["schedule": "*/1 * * * *",
                            "jobTemplate": ["spec": ["template": ["spec": ["restartPolicy": "OnFailure", "containers": [["name": "b", "image": "busybox"]]]]]]]
        for (k, v) in spec { s[k] = v }
        var o: JSONValue = ["apiVersion": "batch/v1", "kind": "CronJob", "metadata": ["name": "backup", "namespace": "default"], "spec": s]
        cronJobs.applyDefaults(to: &o)
        return o
    }

    @Test func cronJobDefaultsValidationAndTable() {
        let o = cronJob([:])
        #expect(o[path: ["spec", "concurrencyPolicy"]] == "Allow" && o[path: ["spec", "suspend"]] == false)
        #expect(o[path: ["spec", "successfulJobsHistoryLimit"]] == 3 && o[path: ["spec", "failedJobsHistoryLimit"]] == 1)
        #expect(o[path: ["spec", "jobTemplate", "spec", "parallelism"]] == nil)  // only the pod template is defaulted
        #expect(cronJobs.validate(o).isEmpty)
        #expect(cronJobs.validate(cronJob(["schedule": "CRON_TZ=UTC 0 * * * *"])).map(\.message) == [
            "spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        ])
        #expect(cronJobs.validate(cronJob(["schedule": "61 * * * *"])).map(\.message) == [
            "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
        ])
        #expect(cronJobs.validate(cronJob(["timeZone": "Mars/Olympus"])).map(\.field) == ["spec.timeZone"])
        #expect(cronJobs.validate(cronJob(["timeZone": "Europe/Berlin"])).isEmpty)
        #expect(cronJobs.validate(cronJob(["concurrencyPolicy": "Sometimes"])).map(\.field) == ["spec.concurrencyPolicy"])
        var long = cronJob([:])
        long[path: ["metadata", "name"]] = .string(String(repeating: "a", count: 53))
        #expect(cronJobs.validate(long).map(\.field) == ["metadata.name"])

        var shown = cronJob(["timeZone": "Europe/Berlin"])
        shown[path: ["metadata", "creationTimestamp"]] = "2026-01-01T00:00:00Z"
        shown["status"] = ["lastScheduleTime": "2026-01-01T00:09:00Z", "active": [["name": "backup-1"]]]
        let cells = cronJobs.tableCells(for: shown, now: ISO8601DateFormatter().date(from: "2026-01-01T00:10:00Z")!)
        #expect(cells == ["backup", "*/1 * * * *", "Europe/Berlin", "False", 1, "60s", "10m", "b", "busybox", "<none>"])
    }
}
