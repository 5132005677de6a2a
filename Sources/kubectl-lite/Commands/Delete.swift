import ArgumentParser
import Foundation
import KubeClient
import KubeModel

/// `kubectl delete`: by name, `-f`, `-l`, `--all`; `--cascade`; waits until the objects are
/// gone (`--wait`, default true), as kubectl does.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete resources by file names, stdin, resources and names, or by resources and label selector")

    @OptionGroup var global: GlobalOptions
    @Argument var args: [String] = []
    @Option(name: [.customShort("f"), .customLong("filename")]) var filenames: [String] = []
    @Flag(name: [.customShort("R"), .customLong("recursive")]) var recursive = false
    @Option(name: [.customShort("l"), .customLong("selector")]) var selector: String?
    @Option(name: .customLong("field-selector")) var fieldSelector: String?
    @Flag(name: .customLong("all")) var all = false
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")]) var allNamespaces = false
    @Option(name: .customLong("cascade")) var cascade: String = "background"
    @Option(name: .customLong("grace-period")) var gracePeriod: Int64 = -1
    @Flag(name: .customLong("now")) var now = false
    @Flag(name: .customLong("force")) var force = false
    @Option(name: .customLong("wait")) var wait: Bool = true
    @Option(name: .customLong("timeout")) var timeout: String = "0s"
    @Flag(name: .customLong("ignore-not-found")) var ignoreNotFound = false
    @Option(name: .customLong("dry-run")) var dryRun: String?
    @Option(name: [.customShort("o"), .customLong("output")]) var output: String?

    func run() async throws {
        let mode = try DryRun(flag: dryRun)
        let policy: String
        switch cascade {
        case "background", "true": policy = "Background"
        case "foreground": policy = "Foreground"
        case "orphan", "false": policy = "Orphan"
        default: throw CommandFailure.error("invalid cascade value (\(cascade)). Must be \"background\", \"foreground\", or \"orphan\"")
        }
        if args.isEmpty && filenames.isEmpty {
            throw CommandFailure("""
                error: You must provide one or more resources by argument or filename.
                Example resource specifications include:
                   '-f rsrc.yaml'
                   '--filename=rsrc.json'
                   '<resource> <name>'
                   '<resource>'
                """)
        }
        var options: [String: JSONValue] = ["propagationPolicy": .string(policy)]
        if now { options["gracePeriodSeconds"] = 1 } else if force && gracePeriod < 0 { options["gracePeriodSeconds"] = 0 }
        else if gracePeriod >= 0 { options["gracePeriodSeconds"] = .int(gracePeriod) }
        if mode == .server { options["dryRun"] = .array(["All"]) }
        let deleteOptions = JSONValue.object(options)
        try await Session.with(global) { session in
            let client = try session.client()
            let namespace = try session.namespace()
            var objects: [(APIResourceInfo, String?, String)] = []
            var failures: [String] = []
            if !filenames.isEmpty {
                let targets = try await ManifestTarget.resolve(try ManifestReader.read(filenames, recursive: recursive), session: session)
                objects = targets.map { ($0.resource, $0.namespace, $0.name) }
            } else {
                let requests = try ResourceArguments(args).requests
                for request in requests {
                    for r in try await session.resolve(request.type) {
                        let scope = r.namespaced && !allNamespaces ? namespace : nil
                        if !request.names.isEmpty {
                            objects += request.names.map { (r, scope, $0) }
                        } else if all || selector != nil || fieldSelector != nil {
                            var sel: [String: String] = [:]
                            if let selector { sel["labelSelector"] = selector }
                            if let fieldSelector { sel["fieldSelector"] = fieldSelector }
                            let items = try await ResourceReader(client: client).list(r, namespace: scope, selectors: sel).items
                            objects += items.map { (r, $0["metadata"]?["namespace"]?.stringValue ?? scope, $0["metadata"]?["name"]?.stringValue ?? "") }
                        } else {
                            throw CommandFailure.error("resource(s) were provided, but no name was specified")
                        }
                    }
                }
                if objects.isEmpty && (all || selector != nil || fieldSelector != nil) {
                    // kubectl says this on stdout for delete.
                    Terminal.write(Get.noResources([], namespace: namespace, allNamespaces: true) + "\n")
                    return
                }
            }
            var deleted: [(APIResourceInfo, String?, String, String?)] = []
            for (r, ns, name) in objects {
                do {
                    var uid: String? = nil
                    if mode != .client {
                        let answer = try await client.delete(r.path(namespace: ns, name: name).path, options: deleteOptions)
                        uid = answer["metadata"]?["uid"]?.stringValue ?? answer["details"]?["uid"]?.stringValue
                    }
                    Terminal.write(output == "name" ? "\(r.kindPrefix)/\(name)\n" : "\(r.kindPrefix) \"\(name)\" deleted\(mode.suffix)\n")
                    deleted.append((r, ns, name, uid))
                } catch let e as KubeAPIError where e.isNotFound {
                    if !ignoreNotFound { failures.append(CommandFailure.serverError(e)) }
                }
            }
            if wait && mode == .none {
                let limit = DurationParser.seconds(timeout).flatMap { $0 > 0 ? $0 : nil } ?? 7 * 24 * 3600
                let deadline = Date().addingTimeInterval(limit)
                for (r, ns, name, uid) in deleted {
                    while true {
                        do {
                            let live = try await client.get(r.path(namespace: ns, name: name).path)
                            if let uid, live["metadata"]?["uid"]?.stringValue != uid { break }
                        } catch let e as KubeAPIError where e.isNotFound { break }
                        if Date() > deadline {
                            throw CommandFailure.error("timed out waiting for the condition on \(r.groupResource)/\(name)")
                        }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
            if !failures.isEmpty { throw CommandFailure(failures.joined(separator: "\n")) }
        }
    }
}
