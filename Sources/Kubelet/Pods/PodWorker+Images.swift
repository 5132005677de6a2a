import Foundation
import KubeModel

/// Pulling a container's image before it starts, as Kubernetes' image manager does: the pull
/// policy (default `Always` for `:latest` or no tag, else `IfNotPresent`), the pod's
/// `imagePullSecrets`, the Pulling/Pulled events, and `ErrImagePull` then `ImagePullBackOff`.
extension PodWorker {
    /// True when the image is present (or the runtime runs no images); otherwise the slot
    /// waits with the failure and its back-off.
    func pullImage(init isInit: Bool, _ i: Int) async -> Bool {
        let s = slot(init: isInit, i)
        let image = s.spec["image"]?.stringValue ?? ""
        guard let service = ctx.runtime as? any ImageService else {
            await recordPresent(image, s)
            return true
        }
        let policy = s.spec["imagePullPolicy"]?.stringValue ?? ImageReference.defaultPullPolicy(for: image)
        let request = ImagePullRequest(image: image, policy: policy, credentials: await pullCredentials())
        if policy != "Never" {
            await ctx.record(pod, "Normal", "Pulling", "Pulling image \"\(image)\"", container: s)
        }
        do {
            switch try await service.ensureImage(request) {
            case .present:
                await recordPresent(image, s)
            case .pulled(let size, let duration):
                let seconds = String(format: "%.3fs", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
                await ctx.record(pod, "Normal", "Pulled",
                                 "Successfully pulled image \"\(image)\" in \(seconds) (\(seconds) including waiting). Image size: \(size) bytes.",
                                 container: s)
            }
            setSlot(init: isInit, i) { $0.imageBackoff = CrashLoopBackoff() }
            return true
        } catch {
            let failure = error as? ContainerStartError ?? ContainerStartError(reason: "ErrImagePull", message: "\(error)")
            await imagePullFailed(init: isInit, i, failure, image: image)
            return false
        }
    }

    private func recordPresent(_ image: String, _ s: ContainerSlot) async {
        guard s.current == nil else { return }
        await ctx.record(pod, "Normal", "Pulled", "Container image \"\(image)\" already present on machine", container: s)
    }

    /// `ErrImagePull` now; the worker shows `ImagePullBackOff` while the back-off runs
    /// (`imageBackOffWaiting`).
    private func imagePullFailed(init isInit: Bool, _ i: Int, _ failure: ContainerStartError, image: String) async {
        let s = slot(init: isInit, i)
        var backoff = s.imageBackoff
        let delay = max(backoff.next(ranFor: .zero), .seconds(1))
        setSlot(init: isInit, i) {
            $0.imageBackoff = backoff
            $0.notBefore = .now + delay
            $0.waiting = (failure.reason, failure.message)
        }
        if failure.reason == "ErrImageNeverPull" {
            await ctx.record(pod, "Warning", "ErrImageNeverPull", failure.message, container: s)
        } else {
            await ctx.record(pod, "Warning", "Failed", "Failed to pull image \"\(image)\": \(failure.message)", container: s)
        }
        await ctx.record(pod, "Warning", "Failed", "Error: \(failure.reason)", container: s)
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(500))
            await self?.imageBackOffWaiting(init: isInit, i)
            try? await Task.sleep(for: delay)
            await self?.wake()
        }
    }

    /// After a failed pull: `ImagePullBackOff` with the pull's message until the next try.
    func imageBackOffWaiting(init isInit: Bool, _ i: Int) async {
        guard (isInit ? initSlots.indices : appSlots.indices).contains(i) else { return }
        let s = slot(init: isInit, i)
        guard let waiting = s.waiting, waiting.reason == "ErrImagePull" else { return }
        let image = s.spec["image"]?.stringValue ?? ""
        setSlot(init: isInit, i) { $0.waiting = ("ImagePullBackOff", "Back-off pulling image \"\(image)\": ErrImagePull: \(waiting.message)") }
        await ctx.record(pod, "Normal", "BackOff", "Back-off pulling image \"\(image)\"", container: s)
        await ctx.record(pod, "Warning", "Failed", "Error: ImagePullBackOff", container: s)
        await report()
    }

    /// Registry credentials of the pod's `imagePullSecrets` (`kubernetes.io/dockerconfigjson`,
    /// or the older `.dockercfg`); a secret that cannot be read is skipped, as the kubelet does.
    func pullCredentials() async -> [String: RegistryCredential] {
        var result: [String: RegistryCredential] = [:]
        for ref in pod[path: ["spec", "imagePullSecrets"]]?.arrayValue ?? [] {
            guard let name = ref["name"]?.stringValue,
                  let secret = try? await ctx.objects.secret(namespace: namespace, name: name) else { continue }
            if let encoded = secret[path: ["data", ".dockerconfigjson"]]?.stringValue, let data = Data(base64Encoded: encoded) {
                result.merge(RegistryCredential.fromDockerConfig(data)) { first, _ in first }
            } else if let encoded = secret[path: ["data", ".dockercfg"]]?.stringValue, let data = Data(base64Encoded: encoded) {
                let wrapped = Data(#"{"auths":"#.utf8) + data + Data("}".utf8)
                result.merge(RegistryCredential.fromDockerConfig(wrapped)) { first, _ in first }
            }
        }
        return result
    }
}
