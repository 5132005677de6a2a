import Foundation

/// `caravel images import`: images from a tar file with no registry, for air-gapped nodes.
/// Two layouts are read: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`;
/// each manifest named by its `io.containerd.image.name` or a full
/// `org.opencontainers.image.ref.name` annotation; a ref name that is only a tag, as
/// `skopeo copy … oci:DIR:TAG` writes it, is named `BASE:TAG` with a base name given) and a
/// `docker save` archive
/// (`manifest.json` with `Config`, `RepoTags` and `Layers`). Every blob is verified as it is
/// stored.
extension ImageStore {
    public func importArchive(_ path: String, baseName: String? = nil) async throws -> [StoredImage] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path) else { throw ImageError.notFound("\(path): no such file") }
        let temp = try content.makeTemporaryFile()
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: temp) }
        var isDirectory: ObjCBool = false
        let directory: String
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            directory = path
        } else {
            guard let tar = PodNetworkCommand.find("tar") else { throw ImageError.invalidContent("importing needs tar") }
            let result = try await PodNetworkCommand.run(tar, ["-x", "-f", path, "-C", temp, "--no-same-owner"], timeout: .seconds(600))
            guard result.status == 0 else { throw ImageError.invalidContent("\(path): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
            directory = temp
        }
        if fm.fileExists(atPath: directory + "/index.json") {
            return try await importLayout(directory, baseName: baseName)
        }
        if fm.fileExists(atPath: directory + "/manifest.json") {
            return try await importDockerSave(directory)
        }
        throw ImageError.invalidContent("\(path) is neither an OCI image layout nor a docker save archive")
    }

    private func readFile(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageError.invalidContent("missing \(path)") }
        return data
    }

    private func store(_ directory: String, _ digest: String) throws {
        let data = try readFile(directory + "/blobs/sha256/" + ContentStore.hex(digest))
        try content.writeBlob(data, digest: digest)
    }

    private func importLayout(_ directory: String, baseName: String?) async throws -> [StoredImage] {
        let index = try ManifestDocument.decode(try readFile(directory + "/index.json"))
        var imported: [StoredImage] = []
        for entry in index.manifests ?? [] {
            let annotations = entry.annotations ?? [:]
            guard let name = Self.layoutImageName(annotations, baseName: baseName), let ref = try? ImageReference(parsing: name) else {
                throw ImageError.invalidContent("manifest \(entry.digest) has no full image name (annotation io.containerd.image.name or "
                    + "org.opencontainers.image.ref.name; a ref name that is only a tag needs a base name)")
            }
            var descriptor = entry
            var document = try ManifestDocument.decode(try readFile(directory + "/blobs/sha256/" + ContentStore.hex(entry.digest)))
            if document.isIndex {
                descriptor = try document.manifest(for: .node)
                document = try ManifestDocument.decode(try readFile(directory + "/blobs/sha256/" + ContentStore.hex(descriptor.digest)))
            }
            guard let config = document.config, let layers = document.layers else {
                throw ImageError.invalidContent("manifest \(descriptor.digest) has no config or layers")
            }
            for digest in [descriptor.digest, config.digest] + layers.map(\.digest) { try store(directory, digest) }
            imported.append(try await register(ref.description, manifestDigest: descriptor.digest, config: config, layers: layers))
        }
        return imported
    }

    /// The full name of a layout's manifest: containerd's annotation, else the OCI ref name when
    /// it names a repository, else `BASE:REF` when the ref name is a bare tag.
    static func layoutImageName(_ annotations: [String: String], baseName: String?) -> String? {
        if let name = annotations["io.containerd.image.name"] { return name }
        guard let ref = annotations["org.opencontainers.image.ref.name"], !ref.isEmpty else { return nil }
        if ref.contains("/") { return ref }
        let isTag = ref.count <= 128 && ref.first.map { $0.isLetter || $0.isNumber || $0 == "_" } == true
            && ref.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
        if let baseName, isTag { return baseName + ":" + ref }
        return ref.contains(".") ? ref : nil
    }

    private struct DockerSaveEntry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    private func importDockerSave(_ directory: String) async throws -> [StoredImage] {
        let entries: [DockerSaveEntry]
        do {
            entries = try JSONDecoder().decode([DockerSaveEntry].self, from: try readFile(directory + "/manifest.json"))
        } catch let error as ImageError { throw error } catch {
            throw ImageError.invalidContent("manifest.json: \(error)")
        }
        var imported: [StoredImage] = []
        for entry in entries {
            func put(_ relative: String) throws -> Descriptor {
                guard !relative.contains("..") else { throw ImageError.invalidContent("\(relative): path outside the archive") }
                let data = try readFile(directory + "/" + relative)
                let digest = ContentStore.digest(of: data)
                try content.writeBlob(data, digest: digest)
                return Descriptor(mediaType: nil, digest: digest, size: Int64(data.count))
            }
            let config = try put(entry.Config)
            let layers = try entry.Layers.map(put)
            // A Docker v2 schema 2 manifest for what `docker save` leaves out, so the image is stored as a pulled one.
            let manifest: [String: Any] = [
                "schemaVersion": 2, "mediaType": MediaType.dockerManifest,
                "config": ["mediaType": "application/vnd.docker.container.image.v1+json", "digest": config.digest, "size": config.size],
                "layers": layers.map { ["mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": $0.digest, "size": $0.size] },
            ]
            let manifestData = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
            let manifestDigest = ContentStore.digest(of: manifestData)
            try content.writeBlob(manifestData, digest: manifestDigest)
            let tags = entry.RepoTags ?? []
            guard !tags.isEmpty else { throw ImageError.invalidContent("\(entry.Config): an image without RepoTags cannot be named") }
            for tag in tags {
                let ref = try ImageReference(parsing: tag)
                imported.append(try await register(ref.description, manifestDigest: manifestDigest, config: config, layers: layers))
            }
        }
        return imported
    }
}
