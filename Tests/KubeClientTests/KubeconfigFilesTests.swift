import Foundation
import Testing
import KubeModel
@testable import KubeClient

@Suite struct KubeconfigFilesTests {
    private func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "kcfiles-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    private func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private let first = """
        apiVersion: v1
        kind: Config
        current-context: a
        clusters:
        - name: c1
          cluster: {server: "https://one:6443", certificate-authority: ca.crt}
        users:
        - name: u1
          user: {token: first}
        contexts:
        - name: a
          context: {cluster: c1, user: u1, namespace: team-a}
        """

    private let second = """
        apiVersion: v1
        kind: Config
        current-context: b
        clusters:
        - name: c1
          cluster: {server: "https://shadowed:6443"}
        - name: c2
          cluster: {server: "http://two:8080"}
        users:
        - name: u1
          user: {token: second}
        contexts:
        - name: b
          context: {cluster: c2, user: u1}
        """

    @Test func firstFileWinsForEachNameAndForCurrentContext() throws {
        let dir = try tempDir()
        try write(first, dir + "/one")
        try write(second, dir + "/two")
        let files = try KubeconfigFiles.load(explicitPath: nil, environment: ["KUBECONFIG": "\(dir)/missing:\(dir)/one:\(dir)/two", "HOME": dir])
        #expect(files.paths == ["\(dir)/one", "\(dir)/two"])
        #expect(files.defaultPath == "\(dir)/one")
        let merged = files.resolved
        #expect(files.merged["clusters"]?[path: []]?.arrayValue?.first?["cluster"]?["certificate-authority"]?.stringValue == "ca.crt")
        #expect(merged["current-context"]?.stringValue == "a")
        let clusters = merged["clusters"]?.arrayValue ?? []
        #expect(clusters.map { $0["name"]?.stringValue } == ["c1", "c2"])
        #expect(clusters[0]["cluster"]?["server"]?.stringValue == "https://one:6443")
        // Relative paths resolve against the file that holds them.
        #expect(clusters[0]["cluster"]?["certificate-authority"]?.stringValue == "\(dir)/ca.crt")
        let a = try files.connection()
        #expect(a.namespace == "team-a" && a.credential == .token("first"))
        // A context from the second file uses the first file's user of the same name.
        let b = try files.connection(context: "b")
        #expect(b.server == "http://two:8080" && b.credential == .token("first") && b.namespace == "default")
    }

    @Test func explicitFileMustExistAndStandsAlone() throws {
        let dir = try tempDir()
        try write(second, dir + "/two")
        #expect(throws: KubeconfigError.self) {
            _ = try KubeconfigFiles.load(explicitPath: dir + "/nope", environment: ["KUBECONFIG": dir + "/two"])
        }
        let files = try KubeconfigFiles.load(explicitPath: dir + "/two", environment: [:])
        #expect(files.merged["current-context"]?.stringValue == "b")
    }

    @Test func noFilesMeansAnEmptyConfigAndHomeAsTheWriteTarget() throws {
        let dir = try tempDir()
        let files = try KubeconfigFiles.load(explicitPath: nil, environment: ["HOME": dir])
        #expect(files.paths.isEmpty)
        #expect(files.defaultPath == dir + "/.kube/config")
        #expect(files.merged["current-context"]?.stringValue == "")
    }

    @Test func updateEditsTheFileThatDefinesTheContext() throws {
        let dir = try tempDir()
        try write(first, dir + "/one")
        try write(second, dir + "/two")
        let files = try KubeconfigFiles.load(explicitPath: nil, environment: ["KUBECONFIG": "\(dir)/one:\(dir)/two"])
        let path = files.fileDefining("contexts", name: "b")
        #expect(path == dir + "/two")
        var created = true
        try KubeconfigFiles.update(path) { doc in
            created = KubeconfigFiles.upsert(&doc, list: "contexts", name: "b", body: "context") { $0["namespace"] = "ops" }
        }
        #expect(!created)
        let reread = try KubeconfigFiles.load(explicitPath: dir + "/two", environment: [:])
        #expect(try reread.connection(context: "b").namespace == "ops")
        // Relative paths are written back as they were.
        try KubeconfigFiles.update(dir + "/one") { $0["current-context"] = "b" }
        let raw = String(decoding: FileManager.default.contents(atPath: dir + "/one") ?? Data(), as: UTF8.self)
        #expect(raw.contains("certificate-authority: ca.crt"))
        #expect(raw.contains("current-context: b"))
    }
}
