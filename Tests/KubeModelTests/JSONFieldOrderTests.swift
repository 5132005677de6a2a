import Testing

@testable import KubeModel

@Suite struct JSONFieldOrderTests {
    func ordered(_ value: JSONValue) -> String { String(decoding: JSONWriter.kubernetesBytes(value), as: UTF8.self) }

    @Test func statusIsWrittenAsKubeApiserverWritesIt() {
        let status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": "configmaps \"x\" already exists",
            "reason": "AlreadyExists", "details": ["name": "x", "kind": "configmaps"], "code": 409,
        ]
        #expect(ordered(status) == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"x\" already exists","reason":"AlreadyExists","details":{"name":"x","kind":"configmaps"},"code":409}"#)
    }

    @Test func typeMetaThenMetadataThenDeclaredOrderAllTheWayDown() {
        let deployment: JSONValue = [
            "status": ["replicas": 1], "spec": ["template": ["spec": ["containers": [["image": "nginx", "name": "web"]]]], "replicas": 1],
            "metadata": ["namespace": "default", "name": "web", "labels": ["b": "2", "a": "1"],
                         "ownerReferences": [["uid": "u", "name": "o", "kind": "ReplicaSet", "apiVersion": "apps/v1"]]],
            "apiVersion": "apps/v1", "kind": "Deployment",
        ]
        #expect(ordered(deployment) == #"{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"web","namespace":"default","labels":{"a":"1","b":"2"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"o","uid":"u"}]},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"web","image":"nginx"}]}}},"status":{"replicas":1}}"#)
    }

    @Test func listsUnknownFieldsAndUnknownKinds() {
        let list: JSONValue = ["items": [["data": ["k": "v"], "metadata": ["name": "a"]]], "metadata": ["resourceVersion": "5"],
                               "apiVersion": "v1", "kind": "ConfigMapList"]
        #expect(ordered(list) == #"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"a"},"data":{"k":"v"}}]}"#)
        // Fields the schema lacks follow the known ones, sorted.
        let extra: JSONValue = ["zz": 1, "aa": 2, "metadata": ["name": "a"], "apiVersion": "v1", "kind": "ConfigMap"]
        #expect(ordered(extra) == #"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"},"aa":2,"zz":1}"#)
        // A kind the schema lacks keeps TypeMeta and metadata first; untyped JSON is sorted.
        let table: JSONValue = ["rows": [], "columnDefinitions": [], "metadata": [:], "apiVersion": "meta.k8s.io/v1", "kind": "Table"]
        #expect(ordered(table) == #"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{},"columnDefinitions":[],"rows":[]}"#)
        #expect(ordered(["b": 1, "a": ["d": 1, "c": 2]]) == #"{"a":{"c":2,"d":1},"b":1}"#)
    }

    @Test func watchEventsAreTypeThenObject() {
        let line = JSONWriter.kubernetesWatchEvent(type: "ADDED", object: ["metadata": ["name": "a"], "kind": "ConfigMap", "apiVersion": "v1"])
        #expect(String(decoding: line, as: UTF8.self) == #"{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}}"#)
    }

    @Test func orderedOutputParsesBackToTheSameValue() throws {
        let pod: JSONValue = ["kind": "Pod", "apiVersion": "v1", "metadata": ["name": "p", "annotations": ["x": "<&>"]],
                              "spec": ["containers": [["name": "c", "resources": ["limits": ["cpu": "1"]]]]]]
        #expect(try JSONParser.parse(JSONWriter.kubernetesBytes(pod)) == pod)
    }
}
