import Foundation

/// A pulled image as the store records it: the references that name it, its manifest and
/// config digests, its layers (bottom first) and what the config says to run.
public struct StoredImage: Codable, Sendable, Equatable {
    public var references: [String]
    public var manifestDigest: String
    public var configDigest: String
    public var layers: [String]
    /// Compressed size of config and layers, as `status.images[].sizeBytes`.
    public var size: Int64
    public var config: ImageConfig.Settings
    /// When the node last pulled or imported it (nil in indexes written before it was kept):
    /// garbage collection spares images younger than its minimum age.
    public var pulledAt: Date?
}

/// The node's images under `ROOT/images`: content in a `ContentStore`, unpacked layers, and
/// `index.json` (every image with the references naming it). Pulls of one image are not
/// deduplicated across callers, but content is stored once and every write is atomic, so two
/// pulls of the same image end in the same state.
public actor ImageStore {
    public nonisolated let content: ContentStore
    public nonisolated let unpacker: LayerUnpacker
    let registry: RegistryClient
    private var images: [StoredImage]

    public init(root: String, hosts: RegistryHosts) {
        content = ContentStore(root: root)
        unpacker = LayerUnpacker(store: content)
        registry = RegistryClient(hosts: hosts)
        images = Self.readIndex(root + "/index.json")
    }

    public func shutdown() async { await registry.shutdown() }

    var indexPath: String { content.root + "/index.json" }

    static func readIndex(_ path: String) -> [StoredImage] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return (try? JSONDecoder().decode([StoredImage].self, from: data)) ?? []
    }

    private func saveIndex() throws {
        try FileManager.default.createDirectory(atPath: content.root, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(images).write(to: URL(fileURLWithPath: indexPath), options: .atomic)
    }

    /// The stored image a reference names (by tag or digest), if present.
    public func image(_ ref: ImageReference) -> StoredImage? {
        reload()
        let key = ref.description
        return images.first { image in
            image.references.contains(key) || (ref.digest != nil && image.manifestDigest == ref.digest)
        }
    }

    public func list() -> [StoredImage] {
        reload()
        return images
    }

    /// `caravel images` changes the index from another process: each operation reads it first.
    private func reload() { images = Self.readIndex(indexPath) }

    /// Pulls `ref` from its registry: index -> the linux/amd64 manifest -> config and layers,
    /// each verified and stored once, layers unpacked. Returns the image and the bytes fetched.
    public func pull(_ ref: ImageReference, credential: RegistryCredential?) async throws -> StoredImage {
        var fetched = try await registry.manifest(ref, reference: ref.reference, credential: credential)
        var document = try ManifestDocument.decode(fetched.data)
        if document.isIndex {
            try content.writeBlob(fetched.data, digest: fetched.digest)
            let entry = try document.manifest(for: .node)
            fetched = try await registry.manifest(ref, reference: entry.digest, credential: credential)
            document = try ManifestDocument.decode(fetched.data)
        }
        guard let configDescriptor = document.config, let layers = document.layers else {
            throw ImageError.invalidContent("\(ref): manifest has no config or layers")
        }
        try content.writeBlob(fetched.data, digest: fetched.digest)
        for descriptor in [configDescriptor] + layers {
            try await registry.fetchBlob(ref, descriptor, credential: credential, into: content)
        }
        return try await register(ref.description, manifestDigest: fetched.digest, config: configDescriptor, layers: layers)
    }

    /// Records an image whose blobs are stored: unpacks its layers and names it `reference`
    /// (moving that name off any other image).
    func register(_ reference: String, manifestDigest: String, config: Descriptor, layers: [Descriptor]) async throws -> StoredImage {
        let configData = try content.readBlob(config.digest)
        let imageConfig: ImageConfig
        do {
            imageConfig = try JSONDecoder().decode(ImageConfig.self, from: configData)
        } catch {
            throw ImageError.invalidContent("image config \(config.digest) is not valid: \(error)")
        }
        for layer in layers { try await unpacker.unpack(layer.digest) }
        reload()
        for i in images.indices { images[i].references.removeAll { $0 == reference } }
        var image = StoredImage(references: [reference], manifestDigest: manifestDigest, configDigest: config.digest,
                                layers: layers.map(\.digest), size: config.size + layers.reduce(0) { $0 + $1.size },
                                config: imageConfig.config ?? .init(), pulledAt: Date())
        if let existing = images.firstIndex(where: { $0.manifestDigest == manifestDigest }) {
            images[existing].references.append(reference)
            images[existing].pulledAt = image.pulledAt
            image = images[existing]
        } else {
            images.append(image)
        }
        images.removeAll { $0.references.isEmpty }
        try saveIndex()
        return image
    }

    /// Forgets the reference; the image's content goes with its last reference (blobs and
    /// layers no other image uses). Returns false when nothing had that name.
    @discardableResult
    public func remove(_ ref: ImageReference) throws -> Bool {
        reload()
        guard let image = image(ref) else { return false }
        let key = ref.description
        if let i = images.firstIndex(where: { $0.manifestDigest == image.manifestDigest }) {
            if ref.digest != nil { images[i].references = [] } else { images[i].references.removeAll { $0 == key } }
            if images[i].references.isEmpty { images.remove(at: i) }
        }
        try saveIndex()
        collectUnreferenced()
        return true
    }

    /// Deletes blobs and unpacked layers no recorded image uses.
    public func collectUnreferenced() {
        var used = Set<String>()
        for image in images { used.formUnion([image.manifestDigest, image.configDigest] + image.layers) }
        let fm = FileManager.default
        for digest in content.blobDigests() where !used.contains(digest) {
            content.removeBlob(digest)
            try? fm.removeItem(atPath: content.layerPath(digest))
            try? fm.removeItem(atPath: unpacker.whiteoutListPath(digest))
        }
    }
}
