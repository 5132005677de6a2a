import Foundation
import Testing

@testable import APIServer

@Suite struct AuditLogTests {
    func withDirectory(_ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(dir)
    }

    func event(_ n: Int = 0, code: Int = 201) -> AuditEvent {
        var info = RequestInfo(group: "", version: "v1", namespace: "default", resource: "secrets", name: nil, subresource: nil)
        info.name = "s\(n)"
        let t = Date(timeIntervalSince1970: 1_700_000_000.25)
        return AuditEvent(verb: "create", requestURI: "/api/v1/namespaces/default/secrets",
                          user: UserInfo(name: "caravel-admin", groups: ["system:masters", "system:authenticated"]),
                          impersonatedUser: UserInfo(name: "jane"), sourceIPs: ["127.0.0.1"],
                          objectRef: .init(info), code: code, requestReceived: t, stageTime: t.addingTimeInterval(0.0042))
    }

    /// Runs the writer over `events` and returns once they are on disk.
    func write(_ log: AuditLog, _ events: [AuditEvent]) async throws {
        for e in events { #expect(log.record(e)) }
        log.finish()
        try await log.run()
    }

    func lines(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func linesAreKubeAuditEvents() async throws {
        try await withDirectory { dir in
            let path = dir + "/audit.log"
            try await write(AuditLog(path: path), [event(1), event(2, code: 409)])
            let events = try lines(path)
            #expect(events.count == 2)
            let e = events[0]
            #expect(e["apiVersion"] as? String == "audit.k8s.io/v1")
            #expect(e["kind"] as? String == "Event")
            #expect(e["level"] as? String == "Metadata")
            #expect(e["stage"] as? String == "ResponseComplete")
            #expect(e["verb"] as? String == "create")
            #expect((e["auditID"] as? String)?.isEmpty == false)
            #expect(e["requestURI"] as? String == "/api/v1/namespaces/default/secrets")
            let user = try #require(e["user"] as? [String: Any])
            #expect(user["username"] as? String == "caravel-admin")
            #expect(user["groups"] as? [String] == ["system:masters", "system:authenticated"])
            #expect((e["impersonatedUser"] as? [String: Any])?["username"] as? String == "jane")
            #expect(e["sourceIPs"] as? [String] == ["127.0.0.1"])
            let ref = try #require(e["objectRef"] as? [String: Any])
            #expect(ref["resource"] as? String == "secrets")
            #expect(ref["namespace"] as? String == "default")
            #expect(ref["name"] as? String == "s1")
            #expect(ref["apiVersion"] as? String == "v1")
            #expect((e["responseStatus"] as? [String: Any])?["code"] as? Int == 201)
            #expect((events[1]["responseStatus"] as? [String: Any])?["code"] as? Int == 409)
            #expect(e["requestReceivedTimestamp"] as? String == "2023-11-14T22:13:20.250000Z")
            #expect(e["stageTimestamp"] as? String == "2023-11-14T22:13:20.254200Z")
            #expect(e["latency"] as? String == "4.200ms")
        }
    }

    /// The line is written without a JSON tree: its bytes are checked whole, in kube's field
    /// order, with strings escaped as Go escapes them and absent fields left out.
    @Test func aLineIsWrittenInKubesFieldOrder() {
        var e = event(1)
        e.auditID = "id-1"
        e.userAgent = "kubectl/v1.33 \"quoted\" <tag>"
        e.user = UserInfo(name: "ann", uid: "u-1", groups: [])
        let line = String(decoding: e.line(), as: UTF8.self)
        #expect(line == #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-1","stage":"ResponseComplete","#
            + #""requestURI":"/api/v1/namespaces/default/secrets","verb":"create","user":{"username":"ann","uid":"u-1","groups":[]},"#
            + #""impersonatedUser":{"username":"jane","groups":[]},"sourceIPs":["127.0.0.1"],"#
            + #""userAgent":"kubectl/v1.33 \"quoted\" \u003ctag\u003e","#
            + #""objectRef":{"resource":"secrets","namespace":"default","name":"s1","apiVersion":"v1"},"#
            + #""responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2023-11-14T22:13:20.250000Z","#
            + #""stageTimestamp":"2023-11-14T22:13:20.254200Z","latency":"4.200ms"}"# + "\n")
        var bare = event(2)
        bare.objectRef = nil
        bare.impersonatedUser = nil
        bare.sourceIPs = []
        let parsed = String(decoding: bare.line(), as: UTF8.self)
        #expect(!parsed.contains("objectRef") && !parsed.contains("impersonatedUser") && !parsed.contains("userAgent"))
        #expect(parsed.contains(#""sourceIPs":[],"responseStatus""#))
    }

    @Test func latencyIsWrittenWithThreeDecimalsAndItsUnit() {
        #expect(AuditEvent.duration(0.0005) == "500µs")
        #expect(AuditEvent.duration(0.0042) == "4.200ms")
        #expect(AuditEvent.duration(0.0123456) == "12.346ms")
        #expect(AuditEvent.duration(0.05) == "50.000ms")
        #expect(AuditEvent.duration(1.5) == "1.500s")
        #expect(AuditEvent.duration(61.0071) == "61.007s")
        #expect(AuditEvent.duration(-1) == "0µs")
        // The same three decimals printf gives, over a spread of values (none halfway between two).
        for i in 1..<2000 {
            let s = Double(i) * 0.001234567891
            let expected = s < 1 ? String(format: "%.3fms", s * 1000) : String(format: "%.3fs", s)
            #expect(AuditEvent.duration(s) == expected, "\(s)")
        }
    }

    @Test func rotationKeepsTheNewestBackups() async throws {
        try await withDirectory { dir in
            let path = dir + "/audit.log"
            let size = event().line().count
            // Two lines per file, and 11 lines: 6 files' worth, of which 3 backups are kept.
            try await write(AuditLog(path: path, maxBytes: 2 * size + 10, maxBackups: 3), (0..<11).map { event($0) })
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            #expect(files == ["audit.log", "audit.log.1", "audit.log.2", "audit.log.3"])
            let names = { (p: String) in try lines(p).compactMap { ($0["objectRef"] as? [String: Any])?["name"] as? String } }
            #expect(try names(path) == ["s10"])
            #expect(try names(path + ".1") == ["s8", "s9"])
            #expect(try names(path + ".3") == ["s4", "s5"])
        }
    }

    @Test func appendsToAnExistingLog() async throws {
        try await withDirectory { dir in
            let path = dir + "/audit.log"
            try await write(AuditLog(path: path), [event(1)])
            try await write(AuditLog(path: path), [event(2)])
            #expect(try lines(path).count == 2)
        }
    }

    @Test func aFullQueueDropsInsteadOfBlocking() async throws {
        try await withDirectory { dir in
            let path = dir + "/audit.log"
            // No writer runs yet: the queue fills and further events are dropped at once.
            let log = AuditLog(path: path, capacity: 3)
            let accepted = (0..<10).filter { log.record(event($0)) }.count
            #expect(accepted == 3)
            #expect(log.dropped == 7)
            log.finish()
            try await log.run()
            #expect(try lines(path).count == 3)
            #expect(!log.record(event(99)))
            #expect(log.dropped == 8)
        }
    }

    @Test func levelNoneRecordsNothing() {
        let log = AuditLog(path: "/nonexistent/audit.log", level: .none)
        #expect(!log.record(event()))
    }
}
