import KubeModel
import KubeTesting
@testable import KubeClient

extension RecordingClient {
    /// Stores `object` in the fake API and in `cache`, as an informer would have seen it;
    /// answers it as stored (uid and resourceVersion stamped).
    @discardableResult
    func seed(_ object: JSONValue, as resource: ResourcePath, into cache: ObjectCache) -> JSONValue {
        let stored = tracker.add(object, to: resource)
        cache.put(stored)
        return stored
    }
}
