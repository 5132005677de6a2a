import Foundation

/// What the `image` field means for the process runtime, which pulls nothing:
///
/// - When the container has a `command`, `command[0]` is the program: an absolute path (or a
///   path relative to the working directory when it contains `/`), else a name searched in the
///   container's `PATH`. `args` follow the command. The image is then only a label.
/// - Without a `command`, the image names the program: the registry host, tag and digest are
///   stripped and the last path component is the program's name
///   (`docker.io/library/busybox:1.36` -> `busybox`, `caravel/demo-app:1.0` -> `demo-app`).
///   It is looked up in `ROOT/images/`, then in the directory of the running executable (so
///   `.build/debug/demo-app` next to `caravel` is found), then in `PATH`; `args` follow it.
/// - An image that names no program found there fails with `ErrImagePull`; a command that is
///   not found fails with `RunContainerError`.
public struct ImageResolver: Sendable {
    public var imagesDirectory: String
    /// Directory of the running executable; nil to skip that step.
    public var executableDirectory: String?
    /// The `PATH` searched (the container's, else the kubelet's).
    public var searchPath: String

    public init(imagesDirectory: String, executableDirectory: String? = ImageResolver.currentExecutableDirectory(),
                searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? ImageResolver.defaultPath) {
        self.imagesDirectory = imagesDirectory
        self.executableDirectory = executableDirectory
        self.searchPath = searchPath
    }

    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The full argv to run, its first element the program's path.
    public func resolve(image: String, command: [String], args: [String]) throws -> [String] {
        if let program = command.first {
            if program.contains("/") { return command + args }
            guard let path = Self.search(program, in: searchPath.split(separator: ":").map(String.init)) else {
                throw ContainerStartError(reason: "RunContainerError",
                                          message: "exec: \"\(program)\": executable file not found in $PATH")
            }
            return [path] + command.dropFirst() + args
        }
        let name = Self.programName(image: image)
        var directories = [imagesDirectory]
        if let executableDirectory { directories.append(executableDirectory) }
        directories += searchPath.split(separator: ":").map(String.init)
        guard !name.isEmpty, let path = Self.search(name, in: directories) else {
            throw ContainerStartError(
                reason: "ErrImagePull",
                message: "image \"\(image)\": no program \"\(name)\" in \(imagesDirectory), \(executableDirectory ?? "-") or PATH")
        }
        return [path] + args
    }

    /// `registry:5000/org/name:tag@sha256:…` -> `name`.
    public static func programName(image: String) -> String {
        var reference = Substring(image)
        if let at = reference.firstIndex(of: "@") { reference = reference[..<at] }
        if let slash = reference.lastIndex(of: "/") { reference = reference[reference.index(after: slash)...] }
        if let colon = reference.firstIndex(of: ":") { reference = reference[..<colon] }
        return String(reference)
    }

    static func search(_ name: String, in directories: [String]) -> String? {
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Where the running binary lives (`/proc/self/exe`), e.g. `.build/debug` during development
    /// and tests, so the shim and demo-app built next to it are found.
    public static func currentExecutableDirectory() -> String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return Bundle.main.executablePath.map { ($0 as NSString).deletingLastPathComponent }
        }
        return (exe as NSString).deletingLastPathComponent
    }
}
