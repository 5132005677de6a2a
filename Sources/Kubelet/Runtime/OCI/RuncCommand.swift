import Foundation

/// The low-level OCI runtime binary (`runc` or `crun`) with the kubelet's own state directory
/// (`--root ROOT/oci`), so runtimes of two kubelets on one host never see each other's containers.
public struct RuncCommand: Sendable {
    public let binary: String
    public let stateRoot: String
    /// Runs before the binary: crun on a cgroup hybrid host goes through `unshare -m`, which
    /// drops the v2 mount in a mount namespace of its own (crun refuses hybrid mode, and
    /// works on the v1 controllers once it sees no v2 hierarchy).
    public var wrapper: [String] = []

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Finds `runc` or `crun`. crun refuses cgroup hybrid mode (v1 controllers with a v2
    /// hierarchy at /sys/fs/cgroup/unified): there it runs where that mount is hidden, and
    /// without `unshare` it is refused here, before any pod, with the reason.
    public static func locate(_ name: String, stateRoot: String, cgroupMount: String = "/sys/fs/cgroup") throws -> RuncCommand {
        guard ["runc", "crun"].contains(name) else { throw Unavailable(description: "--oci-runtime must be runc or crun") }
        guard let binary = PodNetworkCommand.find(name) else {
            throw Unavailable(description: "\(name) not found in \(PodNetworkCommand.searchPath.joined(separator: ":")); install it (Debian: apt-get install \(name))")
        }
        var command = RuncCommand(binary: binary, stateRoot: stateRoot)
        if name == "crun" && isHybrid(cgroupMount) {
            guard let unshare = PodNetworkCommand.find("unshare"), let sh = PodNetworkCommand.find("sh") else {
                throw Unavailable(description: "crun does not support cgroups in hybrid mode (cgroup v1 controllers with a v2 hierarchy at \(cgroupMount)/unified), which this host uses, and unshare is missing to hide it; use --oci-runtime runc")
            }
            command.wrapper = [unshare, "--mount", "--propagation", "private", "--", sh, "-c",
                               "umount \(cgroupMount)/unified && exec \"$0\" \"$@\""]
        }
        return command
    }

    /// v1 controller hierarchies next to a v2 one at `unified`.
    static func isHybrid(_ mount: String) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: mount + "/unified/cgroup.controllers") && !fm.fileExists(atPath: mount + "/cgroup.controllers")
    }

    /// runc's names allow letters, digits, `_`, `-`, `.` and `+`: `<pod uid>_<name>_<attempt>`.
    static func containerName(_ id: ContainerID) -> String { "\(id.podUID)_\(id.name)_\(id.attempt)" }

    func arguments(_ rest: [String]) -> [String] { wrapper + [binary, "--root", stateRoot] + rest }

    /// Runs a subcommand to its end (kill, delete, state); nil when it could not run.
    @discardableResult
    func run(_ rest: [String], timeout: Duration = .seconds(30)) async -> CommandResult? {
        try? FileManager.default.createDirectory(atPath: stateRoot, withIntermediateDirectories: true)
        let argv = arguments(rest)
        return try? await PodNetworkCommand.run(argv[0], Array(argv.dropFirst()), timeout: timeout)
    }

    /// `created`, `running` or `stopped` (`state` JSON's `status`); nil when the runtime knows
    /// no such container (yet, or any more).
    func status(_ name: String) async -> String? {
        guard let result = await run(["state", name]), result.status == 0 else { return nil }
        return Self.status(fromState: result.stdout)
    }

    static func status(fromState text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object["status"] as? String
    }

    /// Waits while `runc run` sets the container up (no state yet, then `created`) so that a
    /// container reported running runs its command, as after CRI's StartContainer. Returns
    /// the last status seen; gives up when the attempt has exited or after `attempts` looks.
    @discardableResult
    static func waitUntilStarted(status: () async -> String?, exited: () -> Bool, attempts: Int, pause: Duration) async -> String? {
        var last: String?
        for _ in 0..<attempts {
            last = await status()
            if last == "running" || last == "stopped" || exited() { return last }
            do { try await Task.sleep(for: pause) } catch { return last }
        }
        return last
    }

    /// The container's init process as the host sees it (`state` JSON's `pid`).
    func initPid(_ name: String) async -> pid_t? {
        guard let result = await run(["state", name]), result.status == 0,
              let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let pid = object["pid"] as? Int, pid > 0 else { return nil }
        return pid_t(pid)
    }
}
