/// The positional arguments of `get`, `delete`, `describe`, `label`...: `TYPE[,TYPE...] [NAME...]`
/// or `TYPE/NAME...`, as kubectl's resource builder reads them.
struct ResourceArguments {
    /// A type as typed, with the names asked for (empty: all).
    struct Request: Equatable {
        var type: String
        var names: [String]
    }

    var requests: [Request]

    init(_ args: [String]) throws {
        if args.contains(where: { $0.contains("/") }) {
            guard args.allSatisfy({ $0.contains("/") }) else {
                throw CommandFailure.error("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl-lite get resource/<resource_name>' instead of 'kubectl-lite get resource resource/<resource_name>'")
            }
            var out: [Request] = []
            for a in args {
                let parts = a.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw CommandFailure.error("arguments in resource/name form must have a single resource and name")
                }
                if let i = out.firstIndex(where: { $0.type == parts[0] }) { out[i].names.append(parts[1]) } else {
                    out.append(Request(type: parts[0], names: [parts[1]]))
                }
            }
            requests = out
            return
        }
        guard let first = args.first else { requests = []; return }
        let types = first.split(separator: ",").map(String.init)
        let names = Array(args.dropFirst())
        if types.count > 1 && !names.isEmpty {
            // kubectl allows `get pods,svc NAME` only when each type has that name; keep its shape.
            requests = types.map { Request(type: $0, names: names) }
        } else {
            requests = types.map { Request(type: $0, names: names) }
        }
    }
}
