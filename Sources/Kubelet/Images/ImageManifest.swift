import Foundation

/// The JSON documents of the OCI image and distribution specs (and their Docker v2 schema 2
/// twins): descriptors, image indexes / manifest lists, manifests and the image config.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    /// What a manifest request accepts, in order of preference.
    public static let acceptedManifests = [ociIndex, dockerManifestList, ociManifest, dockerManifest]

    public static func isIndex(_ type: String?) -> Bool { type == ociIndex || type == dockerManifestList }
}

public struct Platform: Codable, Sendable, Equatable {
    public var architecture: String
    public var os: String
    public var variant: String?

    public static let node = Platform(architecture: "amd64", os: "linux", variant: nil)
}

public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String?
    public var digest: String
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?

    public init(mediaType: String?, digest: String, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }
}

/// An index or a manifest: which one is told by `mediaType` (or, when the document omits it,
/// by having `manifests` rather than `layers`).
public struct ManifestDocument: Codable, Sendable {
    public var schemaVersion: Int?
    public var mediaType: String?
    public var manifests: [Descriptor]?
    public var config: Descriptor?
    public var layers: [Descriptor]?

    public var isIndex: Bool { MediaType.isIndex(mediaType) || (manifests != nil && layers == nil) }

    public static func decode(_ data: Data) throws -> ManifestDocument {
        do {
            return try JSONDecoder().decode(ManifestDocument.self, from: data)
        } catch {
            throw ImageError.invalidContent("manifest is not valid JSON: \(error)")
        }
    }

    /// The entry of an index for the node's platform (linux/amd64).
    public func manifest(for platform: Platform) throws -> Descriptor {
        let entries = manifests ?? []
        if let match = entries.first(where: { $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture }) {
            return match
        }
        let offered = entries.compactMap { $0.platform.map { "\($0.os)/\($0.architecture)" } }.joined(separator: ", ")
        throw ImageError.notFound("no matching manifest for \(platform.os)/\(platform.architecture) in the manifest list entries (\(offered))")
    }
}

/// The parts of the image config a runtime uses.
public struct ImageConfig: Codable, Sendable, Equatable {
    public struct Settings: Codable, Sendable, Equatable {
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Env: [String]?
        public var WorkingDir: String?
        public var User: String?

        public init(Entrypoint: [String]? = nil, Cmd: [String]? = nil, Env: [String]? = nil, WorkingDir: String? = nil, User: String? = nil) {
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.Env = Env
            self.WorkingDir = WorkingDir
            self.User = User
        }
    }

    public struct RootFS: Codable, Sendable, Equatable {
        public var type: String
        public var diff_ids: [String]
    }

    public var architecture: String?
    public var os: String?
    public var config: Settings?
    public var rootfs: RootFS?

    public init(architecture: String? = "amd64", os: String? = "linux", config: Settings?, rootfs: RootFS? = nil) {
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = rootfs
    }
}

/// Why an image could not be had; `message` is what the pod's events and status show.
public enum ImageError: Error, Sendable, CustomStringConvertible, Equatable {
    case notFound(String)
    case unauthorized(String)
    case invalidContent(String)
    case transport(String)

    public var description: String {
        switch self {
        case .notFound(let m), .unauthorized(let m), .invalidContent(let m), .transport(let m): return m
        }
    }
}
