import Foundation
import KubeModel

public enum ProbeKind: String, Sendable {
    case startup, liveness, readiness
}

public enum ProbeResult: Sendable, Equatable {
    case success
    /// The message shown in the Unhealthy event (`<Kind> probe failed: <message>`).
    case failure(String)

    public var isSuccess: Bool { self == .success }
}

/// What a probe or lifecycle hook talks to.
public struct ProbeTarget: Sendable {
    public var podIP: String
    public var containerID: ContainerID
    /// The container spec: named ports resolve through `ports[].name` → `containerPort`.
    public var container: JSONValue
    public var runtime: any ContainerRuntime

    public init(podIP: String, containerID: ContainerID, container: JSONValue, runtime: any ContainerRuntime) {
        self.podIP = podIP
        self.containerID = containerID
        self.container = container
        self.runtime = runtime
    }
}

/// A probe's settings with the Kubernetes defaults applied.
public struct ProbeSpec: Sendable, Equatable {
    public var initialDelay: Duration
    public var period: Duration
    public var timeout: Duration
    public var successThreshold: Int
    public var failureThreshold: Int

    /// Reads a `Probe` object. Values below the API minimums (period, timeout, thresholds ≥ 1)
    /// fall back to the minimum so a sloppy spec never spins or never fails.
    public init(_ probe: JSONValue, kind: ProbeKind) {
        func int(_ key: String, _ def: Int64, min: Int64) -> Int64 { max(probe[key]?.intValue ?? def, min) }
        initialDelay = .seconds(int("initialDelaySeconds", 0, min: 0))
        period = .seconds(int("periodSeconds", 10, min: 1))
        timeout = .seconds(int("timeoutSeconds", 1, min: 1))
        // Liveness and startup must use 1 (API validation); enforce it here too.
        successThreshold = kind == .readiness ? Int(int("successThreshold", 1, min: 1)) : 1
        failureThreshold = Int(int("failureThreshold", 3, min: 1))
    }

    /// The grace period for killing a container after a liveness or startup failure: the
    /// probe's own `terminationGracePeriodSeconds` when set, else the pod's.
    public static func terminationGracePeriod(_ probe: JSONValue, podDefault: Duration) -> Duration {
        if let s = probe["terminationGracePeriodSeconds"]?.intValue, s >= 0 { return .seconds(s) }
        return podDefault
    }

    /// Resolves a probe or hook `port` (IntOrString): a number, a container port name, or a
    /// numeric string (Kubernetes falls back to parsing the name as a number).
    static func resolvePort(_ port: JSONValue?, container: JSONValue) -> Result<Int, ProbeError> {
        guard let port else { return .failure(ProbeError("port is required")) }
        var number: Int64?
        if let n = port.intValue {
            number = n
        } else if let name = port.stringValue {
            let named = container["ports"]?.arrayValue?.first { $0["name"]?.stringValue == name }
            number = named?["containerPort"]?.intValue ?? Int64(name)
            if number == nil { return .failure(ProbeError("couldn't find port: \(name) in container")) }
        }
        guard let n = number, n > 0, n < 65536 else { return .failure(ProbeError("invalid port number: \(port)")) }
        return .success(Int(n))
    }
}

/// A probe or hook that could not run; its description is the failure message.
struct ProbeError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

public enum Prober {
    /// Runs one attempt of `probe` (an object with one of exec, httpGet, tcpSocket, grpc),
    /// bounded by its `timeoutSeconds`.
    public static func run(_ probe: JSONValue, target: ProbeTarget) async -> ProbeResult {
        let timeout = ProbeSpec(probe, kind: .readiness).timeout
        if let exec = probe["exec"] {
            return await ExecProbe.run(exec, target: target, timeout: timeout)
        }
        if let http = probe["httpGet"] {
            return await HTTPGetProbe.run(http, target: target, timeout: timeout)
        }
        if let tcp = probe["tcpSocket"] {
            return await TCPSocketProbe.run(tcp, target: target, timeout: timeout)
        }
        if let grpc = probe["grpc"] {
            return await GRPCProbe.run(grpc, target: target, timeout: timeout)
        }
        return .failure("probe has no handler (exec, httpGet, tcpSocket or grpc)")
    }
}

extension Duration {
    /// Whole seconds, rounded up, for messages.
    var secondsDescription: String {
        let (s, atto) = components
        return "\(s + (atto > 0 ? 1 : 0))s"
    }
}
