import ArgumentParser
import Foundation
import Kubelet

/// `caravel images import|list|remove`: the OCI runtime's image store of a node, without a
/// registry (air-gapped nodes, `imagePullPolicy: Never`).
struct ImagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Import, list and remove the images of a node's OCI runtime (--runtime oci).",
        subcommands: [Import.self, List.self, Remove.self]
    )

    struct Location: ParsableArguments {
        @Option(help: "The server's data directory (its kubelet root is DIR/kubelet).")
        var dataDir: String?

        @Option(help: "A kubelet root directory (`caravel kubelet --root-dir`) instead of a data directory.")
        var rootDir: String?

        func validate() throws {
            guard (dataDir == nil) != (rootDir == nil) else { throw ValidationError("give one of --data-dir or --root-dir") }
        }

        var store: ImageStore {
            let root = rootDir ?? ((dataDir ?? "") as NSString).appendingPathComponent("kubelet")
            return ImageStore(root: root + "/images", hosts: RegistryHosts())
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import the images of an OCI image layout (a directory or its tar) or a `docker save` archive.")
        @OptionGroup var location: Location
        @Argument(help: "The archive or layout directory.")
        var file: String
        @Option(help: ArgumentHelp("The repository for layout manifests whose ref name is only a tag: they are imported as NAME:TAG.",
                                   valueName: "NAME"))
        var baseName: String?

        func run() async throws {
            let store = location.store
            do {
                for image in try await store.importArchive(file, baseName: baseName) {
                    print("imported \(image.references.joined(separator: ", ")) \(image.manifestDigest)")
                }
            } catch {
                await store.shutdown()
                throw ValidationError("import failed: \(error)")
            }
            await store.shutdown()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the node's images.")
        @OptionGroup var location: Location

        func run() async throws {
            let store = location.store
            let images = await store.list()
            await store.shutdown()
            print("IMAGE\tDIGEST\tSIZE")
            for image in images {
                for name in image.references { print("\(name)\t\(image.manifestDigest)\t\(image.size)") }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an image by name (and its content when no other name uses it).")
        @OptionGroup var location: Location
        @Argument(help: "The image reference, e.g. registry.example/app:1.")
        var reference: String

        func run() async throws {
            let ref: ImageReference
            do { ref = try ImageReference(parsing: reference) } catch { throw ValidationError("\(error)") }
            let store = location.store
            let removed: Bool
            do { removed = try await store.remove(ref) } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
            guard removed else { throw ValidationError("no image \(ref)") }
            print("removed \(ref)")
        }
    }
}
