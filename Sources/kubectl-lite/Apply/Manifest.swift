import KubeModel

/// One object read from a file (or stdin), with where it came from for error messages.
struct Manifest {
    var object: JSONValue
    /// The file name as given (`-` reads as `STDIN`).
    var source: String

    var apiVersion: String { object["apiVersion"]?.stringValue ?? "" }
    var kind: String { object["kind"]?.stringValue ?? "" }
    var name: String { object["metadata"]?["name"]?.stringValue ?? "" }
    var namespace: String? { object["metadata"]?["namespace"]?.stringValue }
}
