import ArgumentParser
import Kubelet

/// The image flags of the OCI runtime, shared by `caravel server` (its built-in node) and
/// `caravel kubelet`.
struct ImageFlags: ParsableArguments {
    @Option(help: "With --runtime oci: the OCI runtime that runs containers, runc or crun.")
    var ociRuntime: String = "runc"

    @Option(help: "A registry (HOST:PORT) reached over plain HTTP instead of HTTPS; repeatable.")
    var insecureRegistry: [String] = []

    @Option(help: "Registry mirrors, insecure endpoints and credentials in k3s' registries.yaml format (default: DATA_DIR/registries.yaml for the server, ROOT/registries.yaml for a kubelet).")
    var registriesConfig: String?

    @Option(help: "Disk usage percent of the images' file system above which unused images are removed (after a pull).")
    var imageGcHighThreshold: Int = 85

    @Option(help: "Disk usage percent image garbage collection brings the images' file system down to.")
    var imageGcLowThreshold: Int = 80

    func validate() throws {
        guard (0...100).contains(imageGcHighThreshold), (0...100).contains(imageGcLowThreshold),
              imageGcLowThreshold <= imageGcHighThreshold else {
            throw ValidationError("--image-gc-low-threshold and --image-gc-high-threshold must be percents, low <= high")
        }
        guard ["runc", "crun"].contains(ociRuntime) else { throw ValidationError("--oci-runtime must be runc or crun") }
        for host in insecureRegistry where host.isEmpty || host.contains("/") || host.contains(" ") {
            throw ValidationError("--insecure-registry takes HOST or HOST:PORT, got \"\(host)\"")
        }
    }

    func apply(to options: inout KubeletService.Options, defaultRegistriesConfig: String?) {
        options.ociRuntime = ociRuntime
        options.insecureRegistries = insecureRegistry
        options.registriesConfig = registriesConfig ?? defaultRegistriesConfig
        options.imageGCHighThreshold = imageGcHighThreshold
        options.imageGCLowThreshold = imageGcLowThreshold
    }
}
