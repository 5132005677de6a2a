import Foundation
import KubeModel

/// What the kubelet knows about a pod beyond its object: where it runs and at which addresses,
/// for the downward API (env and volumes).
public struct PodContext: Sendable {
    public var pod: JSONValue
    public var nodeName: String
    public var hostIP: String
    public var podIP: String
    /// The node's allocatable (`cpu`, `memory`, `ephemeral-storage`): what a `limits.*`
    /// resourceFieldRef reports for a container without that limit, as in Kubernetes.
    public var nodeAllocatable: [String: String]

    public init(pod: JSONValue, nodeName: String, hostIP: String, podIP: String, nodeAllocatable: [String: String] = [:]) {
        self.pod = pod
        self.nodeName = nodeName
        self.hostIP = hostIP
        self.podIP = podIP
        self.nodeAllocatable = nodeAllocatable
    }

    var namespace: String { pod.namespace ?? "default" }
}

/// Builds a container's environment the way the kubelet does.
public enum EnvResolver {
    /// The container's environment in order (envFrom first, then env; a later definition
    /// replaces an earlier one in place, then the service variables the container did not set),
    /// with `$(VAR)` expanded in literal values against the variables defined before them and
    /// the service variables. Throws `ContainerStartError` with reason
    /// `CreateContainerConfigError` for a missing non-optional Secret, ConfigMap or key.
    public static func resolve(container: JSONValue, context: PodContext, source: any ObjectSource) async throws
        -> [(name: String, value: String)]
    {
        var fetcher = ObjectFetcher(source: source, namespace: context.namespace)
        let services = try await ServiceEnvironment.variables(for: context.pod, source: source)
        let serviceValues = Dictionary(services.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] == nil { order.append(name) }
            values[name] = value
        }

        for from in container["envFrom"]?.arrayValue ?? [] {
            let prefix = from["prefix"]?.stringValue ?? ""
            let data: [String: [UInt8]]
            if let ref = from["configMapRef"], let name = ref["name"]?.stringValue {
                guard let cm = try await fetcher.configMap(name) else {
                    if ref["optional"]?.boolValue == true { continue }
                    throw DownwardValues.configError("configmap \"\(name)\" not found")
                }
                // Only `data`: binaryData is not text, Kubernetes leaves it out of env too.
                data = cm.stringMap(at: ["data"]).mapValues { Array($0.utf8) }
            } else if let ref = from["secretRef"], let name = ref["name"]?.stringValue {
                guard let secret = try await fetcher.secret(name) else {
                    if ref["optional"]?.boolValue == true { continue }
                    throw DownwardValues.configError("secret \"\(name)\" not found")
                }
                data = try ObjectData.secret(secret, namespace: context.namespace, name: name)
            } else {
                continue
            }
            for key in data.keys.sorted() {
                let name = prefix + key
                // Kubernetes skips (and reports in an event) keys that are not valid names.
                guard isValidName(name), let bytes = data[key] else { continue }
                set(name, String(decoding: bytes, as: UTF8.self))
            }
        }

        for entry in container["env"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue else { continue }
            if let literal = entry["value"]?.stringValue, !literal.isEmpty {
                set(name, expand(literal, env: serviceValues.merging(values) { _, declared in declared }))
            } else if let from = entry["valueFrom"], from.objectValue != nil {
                guard let value = try await valueFrom(from, container: container, context: context, fetcher: &fetcher)
                else { continue }  // optional and absent
                set(name, value)
            } else {
                set(name, "")
            }
        }
        for (name, value) in services where values[name] == nil { set(name, value) }
        return order.map { (name: $0, value: values[$0] ?? "") }
    }

    /// One `valueFrom`; nil when an optional reference is absent (the variable is left out).
    private static func valueFrom(_ from: JSONValue, container: JSONValue, context: PodContext,
                                  fetcher: inout ObjectFetcher) async throws -> String? {
        let ns = context.namespace
        if let ref = from["secretKeyRef"] {
            let name = ref["name"]?.stringValue ?? ""
            let key = ref["key"]?.stringValue ?? ""
            let optional = ref["optional"]?.boolValue == true
            guard let secret = try await fetcher.secret(name) else {
                if optional { return nil }
                throw DownwardValues.configError("secret \"\(name)\" not found")
            }
            guard let bytes = try ObjectData.secret(secret, namespace: ns, name: name)[key] else {
                if optional { return nil }
                throw DownwardValues.configError("couldn't find key \(key) in Secret \(ns)/\(name)")
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        if let ref = from["configMapKeyRef"] {
            let name = ref["name"]?.stringValue ?? ""
            let key = ref["key"]?.stringValue ?? ""
            let optional = ref["optional"]?.boolValue == true
            guard let cm = try await fetcher.configMap(name) else {
                if optional { return nil }
                throw DownwardValues.configError("configmap \"\(name)\" not found")
            }
            guard let value = cm[path: ["data", key]]?.stringValue else {
                if optional { return nil }
                throw DownwardValues.configError("couldn't find key \(key) in ConfigMap \(ns)/\(name)")
            }
            return value
        }
        if let ref = from["fieldRef"] {
            return try DownwardValues.field(ref["fieldPath"]?.stringValue ?? "", context: context, wholeMaps: false)
        }
        if let ref = from["resourceFieldRef"] {
            var target = container
            if let other = ref["containerName"]?.stringValue, !other.isEmpty, other != container["name"]?.stringValue {
                guard let found = DownwardValues.container(named: other, in: context.pod) else {
                    throw DownwardValues.configError("container \(other) not found")
                }
                target = found
            }
            return try DownwardValues.resource(ref, container: target, context: context)
        }
        throw DownwardValues.configError("env var valueFrom has no supported source")
    }

    /// Kubernetes' env var name rule (relaxed form, the default since 1.32): printable ASCII
    /// without `=`, not empty.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") }
    }

    /// Kubernetes' `$(VAR)` expansion: a defined VAR is replaced, an undefined one stays as
    /// written, `$$` is a literal `$`, any other `$` is kept.
    public static func expand(_ s: String, env: [String: String]) -> String {
        let b = Array(s.utf8)
        guard b.contains(UInt8(ascii: "$")) else { return s }
        let dollar = UInt8(ascii: "$"), open = UInt8(ascii: "("), close = UInt8(ascii: ")")
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            guard b[i] == dollar, i + 1 < b.count else {
                out.append(b[i])
                i += 1
                continue
            }
            let next = b[i + 1]
            if next == dollar {
                out.append(dollar)
                i += 2
            } else if next == open, let end = b[(i + 2)...].firstIndex(of: close) {
                let name = String(decoding: b[(i + 2)..<end], as: UTF8.self)
                if let value = env[name] {
                    out.append(contentsOf: value.utf8)
                } else {
                    out.append(contentsOf: b[i...end])
                }
                i = end + 1
            } else {
                // `$(` without a closing paren, or `$x`: both kept as written.
                out.append(dollar)
                out.append(next)
                i += 2
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Fetches each Secret/ConfigMap once per resolution; source failures other than "not found"
/// become a config error carrying their message, as the kubelet reports them.
struct ObjectFetcher {
    let source: any ObjectSource
    let namespace: String
    private var secrets: [String: JSONValue?] = [:]
    private var configMaps: [String: JSONValue?] = [:]

    init(source: any ObjectSource, namespace: String) {
        self.source = source
        self.namespace = namespace
    }

    mutating func secret(_ name: String) async throws -> JSONValue? {
        if let cached = secrets[name] { return cached }
        let value = try await wrap { try await source.secret(namespace: namespace, name: name) }
        secrets[name] = .some(value)
        return value
    }

    mutating func configMap(_ name: String) async throws -> JSONValue? {
        if let cached = configMaps[name] { return cached }
        let value = try await wrap { try await source.configMap(namespace: namespace, name: name) }
        configMaps[name] = .some(value)
        return value
    }

    private func wrap(_ body: () async throws -> JSONValue?) async throws -> JSONValue? {
        do {
            return try await body()
        } catch let e as ContainerStartError {
            throw e
        } catch {
            throw DownwardValues.configError("\(error)")
        }
    }
}

/// Decoded contents of Secrets and ConfigMaps.
enum ObjectData {
    /// A Secret's `data`, base64-decoded.
    static func secret(_ secret: JSONValue, namespace: String, name: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for (key, value) in secret["data"]?.objectValue ?? [:] {
            guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
                throw DownwardValues.configError("invalid base64 data for key \(key) in Secret \(namespace)/\(name)")
            }
            out[key] = Array(data)
        }
        return out
    }

    /// A ConfigMap's `data` (text) and `binaryData` (base64) together, as volumes show them.
    static func configMap(_ cm: JSONValue, namespace: String, name: String) throws -> [String: [UInt8]] {
        var out = cm.stringMap(at: ["data"]).mapValues { Array($0.utf8) }
        for (key, value) in cm["binaryData"]?.objectValue ?? [:] {
            guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
                throw DownwardValues.configError("invalid base64 binaryData for key \(key) in ConfigMap \(namespace)/\(name)")
            }
            out[key] = Array(data)
        }
        return out
    }
}
