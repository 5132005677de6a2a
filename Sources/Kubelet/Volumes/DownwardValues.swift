import KubeModel

/// The values the downward API exposes (env `fieldRef`/`resourceFieldRef` and downwardAPI
/// volume items), computed as Kubernetes computes them.
enum DownwardValues {
    static func configError(_ message: String) -> ContainerStartError {
        ContainerStartError(reason: "CreateContainerConfigError", message: message)
    }

    /// A `fieldRef.fieldPath`. Whole `metadata.labels` / `metadata.annotations` are only
    /// allowed in volumes (`wholeMaps`), where they render as sorted `k="v"` lines.
    static func field(_ path: String, context: PodContext, wholeMaps: Bool) throws -> String {
        let pod = context.pod
        if let (map, key) = subscripted(path) {
            switch map {
            case "metadata.labels": return pod.labels[key] ?? ""
            case "metadata.annotations": return pod.annotations[key] ?? ""
            default: throw configError("unsupported fieldPath: \(path)")
            }
        }
        switch path {
        case "metadata.name": return pod.name ?? ""
        case "metadata.namespace": return pod.namespace ?? ""
        case "metadata.uid": return pod.uid ?? ""
        case "metadata.labels" where wholeMaps: return formatMap(pod.labels)
        case "metadata.annotations" where wholeMaps: return formatMap(pod.annotations)
        case "spec.nodeName": return context.nodeName.isEmpty ? pod[path: ["spec", "nodeName"]]?.stringValue ?? "" : context.nodeName
        case "spec.serviceAccountName": return pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
        case "status.hostIP": return context.hostIP
        case "status.hostIPs": return ips(context.hostIP, pod[path: ["status", "hostIPs"]]).joined(separator: ",")
        case "status.podIP": return context.podIP
        case "status.podIPs": return ips(context.podIP, pod[path: ["status", "podIPs"]]).joined(separator: ",")
        default: throw configError("unsupported fieldPath: \(path)")
        }
    }

    /// `metadata.labels['k']` → ("metadata.labels", "k").
    static func subscripted(_ path: String) -> (String, String)? {
        guard path.hasSuffix("']"), let open = path.range(of: "['") else { return nil }
        let key = path[open.upperBound..<path.index(path.endIndex, offsetBy: -2)]
        return (String(path[..<open.lowerBound]), String(key))
    }

    /// The kubelet's own IP first (the status may not be written yet), then the status' others.
    private static func ips(_ primary: String, _ list: JSONValue?) -> [String] {
        var out = primary.isEmpty ? [] : [primary]
        for entry in list?.arrayValue ?? [] {
            if let ip = entry["ip"]?.stringValue, !ip.isEmpty, !out.contains(ip) { out.append(ip) }
        }
        return out
    }

    /// A `resourceFieldRef` of `container`: the value divided by the divisor, rounded up.
    static func resource(_ ref: JSONValue, container: JSONValue, context: PodContext) throws -> String {
        let resource = ref["resource"]?.stringValue ?? ""
        let divisor = quantity(ref["divisor"]).flatMap { $0.isZero ? nil : $0 } ?? Quantity(mantissa: 1)
        let limits = container[path: ["resources", "limits"]]
        let requests = container[path: ["resources", "requests"]]
        // Unset limits fall back to node allocatable; unset requests to the limit (API defaulting).
        func limit(_ name: String) -> Quantity {
            quantity(limits?[name]) ?? context.nodeAllocatable[name].flatMap(Quantity.parse) ?? Quantity(mantissa: 0)
        }
        func request(_ name: String) -> Quantity {
            quantity(requests?[name]) ?? quantity(limits?[name]) ?? Quantity(mantissa: 0)
        }
        switch resource {
        case "limits.cpu": return cpu(limit("cpu"), divisor)
        case "requests.cpu": return cpu(request("cpu"), divisor)
        case "limits.memory": return bytes(limit("memory"), divisor)
        case "requests.memory": return bytes(request("memory"), divisor)
        case "limits.ephemeral-storage": return bytes(limit("ephemeral-storage"), divisor)
        case "requests.ephemeral-storage": return bytes(request("ephemeral-storage"), divisor)
        default: throw configError("unsupported container resource : \(resource)")
        }
    }

    private static func cpu(_ q: Quantity, _ divisor: Quantity) -> String {
        String(ceilDiv(q.milliValue, max(divisor.milliValue, 1)))
    }

    private static func bytes(_ q: Quantity, _ divisor: Quantity) -> String {
        String(ceilDiv(q.value, max(divisor.value, 1)))
    }

    private static func ceilDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a <= 0 ? a / b : (a / b) + (a % b == 0 ? 0 : 1)
    }

    /// Quantities arrive as strings ("500m") or bare JSON numbers.
    static func quantity(_ v: JSONValue?) -> Quantity? {
        switch v {
        case .string(let s)?: return Quantity.parse(s)
        case .int(let i)?: return Quantity(mantissa: i)
        case .double(let d)?: return Quantity.parse(String(d))
        default: return nil
        }
    }

    /// A container of the pod by name (app, init or ephemeral).
    static func container(named name: String, in pod: JSONValue) -> JSONValue? {
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for c in pod[path: ["spec", list]]?.arrayValue ?? [] where c["name"]?.stringValue == name { return c }
        }
        return nil
    }

    /// Sorted `key="value"` lines, the value quoted as Go's `%q` does.
    static func formatMap(_ m: [String: String]) -> String {
        m.keys.sorted().map { "\($0)=\(goQuote(m[$0] ?? ""))" }.joined(separator: "\n")
    }

    static func goQuote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            default:
                if isPrintable(u) {
                    out.unicodeScalars.append(u)
                } else if u.value < 0x80 {
                    out += "\\x" + hex(u.value, 2)
                } else if u.value < 0x10000 {
                    out += "\\u" + hex(u.value, 4)
                } else {
                    out += "\\U" + hex(u.value, 8)
                }
            }
        }
        return out + "\""
    }

    private static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        if u == " " { return true }
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    private static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
