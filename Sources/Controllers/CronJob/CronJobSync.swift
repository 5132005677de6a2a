import Foundation
import KubeModel

/// One reconcile's view of a CronJob and the status being built.
struct CronJobSync {
    var cronJob: JSONValue
    var status: JSONValue
    var pendingEvents: [JobSync.Event] = []

    init(cronJob: JSONValue) {
        self.cronJob = cronJob
        let status = cronJob["status"] ?? .object([:])
        self.status = status.objectValue == nil ? .object([:]) : status
    }

    /// `status.active`: references to the Jobs it started that have not finished.
    var active: [JSONValue] {
        get { status["active"]?.arrayValue ?? [] }
        set { status["active"] = newValue.isEmpty ? nil : .array(newValue) }
    }

    var lastScheduleTime: Date? { status["lastScheduleTime"]?.stringValue.flatMap(Timestamp.parse) }

    mutating func event(_ reason: String, _ message: String, warning: Bool = false) {
        pendingEvents.append(JobSync.Event(type: warning ? "Warning" : "Normal", reason: reason, message: message))
    }
}
