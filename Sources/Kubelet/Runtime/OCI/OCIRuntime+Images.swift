import Foundation

/// The image half of the OCI runtime: pull policies over the node's `ImageStore`.
extension OCIRuntime {
    public func ensureImage(_ request: ImagePullRequest) async throws -> ImagePullOutcome {
        let ref: ImageReference
        do { ref = try ImageReference(parsing: request.image) } catch {
            throw ContainerStartError(reason: "InvalidImageName", message: "Failed to apply default image tag \"\(request.image)\": \(error)")
        }
        let present = await images.image(ref)
        switch request.policy {
        case "Never":
            guard present != nil else {
                throw ContainerStartError(reason: "ErrImageNeverPull",
                                          message: "Container image \"\(request.image)\" is not present with pull policy of Never")
            }
            return .present
        case "IfNotPresent" where present != nil:
            return .present
        default:
            let clock = ContinuousClock()
            let started = clock.now
            do {
                let image = try await images.pull(ref, credential: request.credentials[ref.registry])
                let duration = clock.now - started
                await collectImages(keeping: request.image)
                return .pulled(sizeBytes: image.size, duration: duration)
            } catch {
                throw ContainerStartError(reason: "ErrImagePull",
                                          message: "failed to pull and unpack image \"\(ref)\": \(error)")
            }
        }
    }

    /// The kubelet's periodic pass (`ImageGarbageCollector.period`).
    public func collectUnusedImages() async { await collectImages(keeping: nil) }

    /// Pulls are what fill the disk: after each, images no container uses go while the
    /// disk is above the high threshold (the image being started counts as used). Every
    /// container with a record on the node counts, running or exited.
    @discardableResult
    func collectImages(keeping image: String?) async -> [String] {
        let removed = await imageGC.collect(images, inUse: (image.map { [$0] } ?? []) + imagesInUse())
        if !removed.isEmpty { logger.info("image garbage collection removed \(removed.joined(separator: ", "))") }
        return removed
    }

    /// The images of every container with a record on the node, running or exited.
    func imagesInUse() -> [String] {
        var inUse: [String] = []
        for podUID in (try? FileManager.default.contentsOfDirectory(atPath: processes.paths.podsDirectory)) ?? [] {
            for id in processes.containerIDs(podUID: podUID) {
                if let config = processes.record(id).config() { inUse.append(config.image) }
            }
        }
        return inUse
    }

    public func nodeImages() async -> [NodeImage] {
        await images.list().map { image in
            NodeImage(names: image.references.map { $0 } + [Self.digestName(image)], sizeBytes: image.size)
        }
    }

    /// `registry/repository@sha256:...`, as a node lists an image by digest.
    static func digestName(_ image: StoredImage) -> String {
        let name = image.references.first.flatMap { try? ImageReference(parsing: $0) }?.name ?? "unknown"
        return "\(name)@\(image.manifestDigest)"
    }
}
