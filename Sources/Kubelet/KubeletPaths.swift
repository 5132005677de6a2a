import Foundation
import KubeModel

/// Where a kubelet keeps its state under its root directory. One definition so the runtime,
/// the volume manager and the log server agree:
///
///     ROOT/pods/<uid>/volumes/<volume>/             prepared volumes
///     ROOT/pods/<uid>/containers/<name>/<attempt>/  runtime records (shim pid, exit status)
///     ROOT/pods/<uid>/sandbox.json                  network namespace and IP
///     ROOT/logs/<ns>_<pod>_<uid>/<name>/<attempt>.log  container logs (+ .1, .2 … rotated)
///     ROOT/storage/<pv>_<ns>_<claim>/               local-path volumes (outlive their pods)
///     ROOT/seccomp/<profile>                        Localhost seccomp profiles (the admin's)
public struct KubeletPaths: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var podsDirectory: String { root + "/pods" }
    public var logsDirectory: String { root + "/logs" }
    /// Where `seccompProfile.localhostProfile` paths are resolved, as the kubelet's seccomp dir.
    public var seccompDirectory: String { root + "/seccomp" }
    /// The directories of local-path volumes (one per claim), announced on the Node.
    public var localVolumesDirectory: String { root + "/" + LocalPathStorage.volumesDirectoryName }

    public func podDirectory(_ uid: String) -> String { podsDirectory + "/" + uid }
    public func volumesDirectory(_ uid: String) -> String { podDirectory(uid) + "/volumes" }
    public func volumeDirectory(_ uid: String, volume: String) -> String { volumesDirectory(uid) + "/" + volume }
    public func sandboxFile(_ uid: String) -> String { podDirectory(uid) + "/sandbox.json" }
    public func containerDirectory(_ id: ContainerID) -> String {
        podDirectory(id.podUID) + "/containers/\(id.name)/\(id.attempt)"
    }

    public func podLogDirectory(namespace: String, pod: String, uid: String) -> String {
        logsDirectory + "/\(namespace)_\(pod)_\(uid)"
    }
    public func containerLogPath(namespace: String, pod: String, uid: String, container: String, attempt: Int) -> String {
        podLogDirectory(namespace: namespace, pod: pod, uid: uid) + "/\(container)/\(attempt).log"
    }
}
