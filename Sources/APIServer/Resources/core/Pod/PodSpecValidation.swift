import Foundation
import KubeModel

/// Kubernetes' PodSpec validation (`ValidatePodSpec` and helpers in
/// `pkg/apis/core/validation`), the subset that matters for a control plane without kubelets.
/// `path` is the spec's own path: `spec` for a Pod, `spec.template.spec` for a template.
enum PodSpecValidation {
    typealias K = ResourceKit

    static let restartPolicies = ["Always", "OnFailure", "Never"]
    static let dnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
    static let pullPolicies = ["Always", "IfNotPresent", "Never"]
    static let protocols = ["TCP", "UDP", "SCTP"]
    static let messagePolicies = ["File", "FallbackToLogsOnError"]

    static func validate(_ spec: JSONValue?, path: String) -> [FieldError] {
        guard let spec, spec.objectValue != nil else { return [.required(path, "")] }
        var errs: [FieldError] = []
        let volumeNames = validateVolumes(spec["volumes"], K.child(path, "volumes"), &errs)

        // Container names are unique across init, regular and ephemeral containers.
        var names = Set<String>()
        let containers = K.array(spec["containers"])
        if containers.isEmpty { errs.append(.required(K.child(path, "containers"), "")) }
        for (key, list) in [("initContainers", K.array(spec["initContainers"])), ("containers", containers)] {
            for (i, c) in list.enumerated() {
                errs += validateContainer(c, K.idx(K.child(path, key), i), volumes: volumeNames, names: &names, isInit: key == "initContainers")
            }
        }
        errs += validateHostPorts(spec, path)

        errs += K.enumValue(spec["restartPolicy"], K.child(path, "restartPolicy"), restartPolicies)
        errs += K.enumValue(spec["dnsPolicy"], K.child(path, "dnsPolicy"), dnsPolicies)
        errs += NameValidation.validateLabels(spec["nodeSelector"], path: K.child(path, "nodeSelector"))
        for (field, rule) in [("serviceAccountName", NameRule.dns1123Subdomain), ("nodeName", .dns1123Subdomain),
                              ("hostname", .dns1123Label), ("subdomain", .dns1123Label)] {
            if let s = spec[field]?.stringValue, !s.isEmpty {
                errs += NameValidation.validateObjectName(s, path: K.child(path, field), rule: rule)
            }
        }
        errs += K.inRange(spec["activeDeadlineSeconds"], K.child(path, "activeDeadlineSeconds"), 1, Int64(Int32.max))
        errs += validateTolerations(spec["tolerations"], K.child(path, "tolerations"))
        return errs
    }

    /// A required DNS-1123 label name, unique among `seen` (volume and container names).
    static func validateUniqueName(_ name: String, _ path: String, seen: inout Set<String>, _ errs: inout [FieldError]) {
        if name.isEmpty {
            errs.append(.required(path, ""))
            return
        }
        errs += NameValidation.validateObjectName(name, path: path, rule: .dns1123Label)
        if seen.contains(name) { errs.append(.duplicate(path, FieldError.show(.string(name)))) }
        seen.insert(name)
    }

    /// Validates volumes; returns their names for volumeMount checks.
    static func validateVolumes(_ volumes: JSONValue?, _ path: String, _ errs: inout [FieldError]) -> Set<String> {
        var names = Set<String>()
        for (i, v) in K.array(volumes).enumerated() {
            let p = K.idx(path, i)
            let name = K.string(v["name"])
            validateUniqueName(name, K.child(p, "name"), seen: &names, &errs)
            let sources = (v.objectValue ?? [:]).keys.filter { PodSpecDefaults.volumeSources.contains($0) && v[$0]?.isNull == false }.sorted()
            if sources.isEmpty {
                errs.append(.required(p, "must specify a volume type"))
            } else if sources.count > 1 {
                errs.append(.forbidden(K.child(p, sources[1]), "may not specify more than 1 volume type"))
            }
        }
        return names
    }

    static func validateContainer(_ c: JSONValue, _ p: String, volumes: Set<String>, names: inout Set<String>, isInit: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        let name = K.string(c["name"])
        validateUniqueName(name, K.child(p, "name"), seen: &names, &errs)
        let image = K.string(c["image"])
        if image.isEmpty {
            errs.append(.required(K.child(p, "image"), ""))
        } else if image.first?.isWhitespace == true || image.last?.isWhitespace == true {
            errs.append(.invalid(K.child(p, "image"), FieldError.show(.string(image)), "must not have leading or trailing whitespace"))
        }
        errs += K.enumValue(c["imagePullPolicy"], K.child(p, "imagePullPolicy"), pullPolicies)
        errs += K.enumValue(c["terminationMessagePolicy"], K.child(p, "terminationMessagePolicy"), messagePolicies)
        if let rp = c["restartPolicy"]?.stringValue {
            if !isInit {
                errs.append(.forbidden(K.child(p, "restartPolicy"), "may not be set for non-init containers"))
            } else if rp != "Always" {
                errs.append(.notSupported(K.child(p, "restartPolicy"), FieldError.show(.string(rp)), ["Always"]))
            }
        }
        errs += validatePorts(c["ports"], K.child(p, "ports"))
        errs += validateEnv(c["env"], K.child(p, "env"))
        errs += validateMounts(c["volumeMounts"], K.child(p, "volumeMounts"), volumes: volumes)
        errs += validateResources(c["resources"], K.child(p, "resources"))
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard let pr = c[probe], !pr.isNull else { continue }
            if isInit && c["restartPolicy"]?.stringValue != "Always" {
                errs.append(.forbidden(K.child(p, probe), "may not be set for init containers without restartPolicy=Always"))
                continue
            }
            errs += validateProbe(pr, K.child(p, probe), kind: probe)
        }
        return errs
    }

    static func validatePorts(_ ports: JSONValue?, _ path: String) -> [FieldError] {
        var errs: [FieldError] = []
        var names = Set<String>()
        for (i, port) in K.array(ports).enumerated() {
            let p = K.idx(path, i)
            if let name = port["name"]?.stringValue, !name.isEmpty {
                for m in NameValidation.isValidPortName(name) { errs.append(.invalid(K.child(p, "name"), FieldError.show(.string(name)), m)) }
                if names.contains(name) { errs.append(.duplicate(K.child(p, "name"), FieldError.show(.string(name)))) }
                names.insert(name)
            }
            let cp = K.int(port["containerPort"])
            if cp == 0 {
                errs.append(.required(K.child(p, "containerPort"), ""))
            } else {
                for m in NameValidation.isValidPortNumber(cp) { errs.append(.invalid(K.child(p, "containerPort"), String(cp), m)) }
            }
            let hp = K.int(port["hostPort"])
            if hp != 0 {
                for m in NameValidation.isValidPortNumber(hp) { errs.append(.invalid(K.child(p, "hostPort"), String(hp), m)) }
            }
            errs += K.enumValue(port["protocol"], K.child(p, "protocol"), protocols)
        }
        return errs
    }

    /// Host ports must not collide across containers (same port, protocol and host IP).
    static func validateHostPorts(_ spec: JSONValue, _ path: String) -> [FieldError] {
        var seen = Set<String>()
        var errs: [FieldError] = []
        for (i, c) in K.array(spec["containers"]).enumerated() {
            for (j, port) in K.array(c["ports"]).enumerated() {
                let hp = K.int(port["hostPort"])
                guard hp != 0 else { continue }
                let key = "\(K.string(port["hostIP"]))/\(hp)/\(K.string(port["protocol"]))"
                if seen.contains(key) {
                    let p = K.child(K.idx(K.child(K.idx(K.child(path, "containers"), i), "ports"), j), "hostPort")
                    errs.append(.duplicate(p, FieldError.show(.string("\(hp)/\(K.string(port["protocol"]))"))))
                }
                seen.insert(key)
            }
        }
        return errs
    }

    static func validateEnv(_ env: JSONValue?, _ path: String) -> [FieldError] {
        var errs: [FieldError] = []
        for (i, e) in K.array(env).enumerated() {
            let p = K.idx(path, i)
            let name = K.string(e["name"])
            if name.isEmpty {
                errs.append(.required(K.child(p, "name"), ""))
            } else {
                for m in NameValidation.isEnvVarName(name) { errs.append(.invalid(K.child(p, "name"), FieldError.show(.string(name)), m)) }
            }
            guard let vf = e["valueFrom"], !vf.isNull else { continue }
            let sources = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef"].filter { vf[$0].map { !$0.isNull } ?? false }
            if sources.isEmpty {
                errs.append(.invalid(K.child(p, "valueFrom"), "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
            } else if sources.count > 1 {
                errs.append(.invalid(K.child(p, "valueFrom"), "", "may not have more than one field specified at a time"))
            }
            if !(e["value"]?.stringValue ?? "").isEmpty {
                errs.append(.invalid(K.child(p, "valueFrom"), "", "may not be specified when `value` is not empty"))
            }
            for ref in ["configMapKeyRef", "secretKeyRef"] {
                guard let r = vf[ref], !r.isNull else { continue }
                let key = K.string(r["key"])
                if key.isEmpty {
                    errs.append(.required(K.child(K.child(K.child(p, "valueFrom"), ref), "key"), ""))
                } else {
                    for m in NameValidation.isConfigMapKey(key) {
                        errs.append(.invalid(K.child(K.child(K.child(p, "valueFrom"), ref), "key"), FieldError.show(.string(key)), m))
                    }
                }
            }
        }
        return errs
    }

    static func validateMounts(_ mounts: JSONValue?, _ path: String, volumes: Set<String>) -> [FieldError] {
        var errs: [FieldError] = []
        var paths = Set<String>()
        for (i, m) in K.array(mounts).enumerated() {
            let p = K.idx(path, i)
            let name = K.string(m["name"])
            if name.isEmpty {
                errs.append(.required(K.child(p, "name"), ""))
            } else if !volumes.contains(name) {
                errs.append(FieldError(.notFound, K.child(p, "name"), value: FieldError.show(.string(name))))
            }
            let mp = K.string(m["mountPath"])
            if mp.isEmpty {
                errs.append(.required(K.child(p, "mountPath"), ""))
            } else {
                if paths.contains(mp) { errs.append(.invalid(K.child(p, "mountPath"), FieldError.show(.string(mp)), "must be unique")) }
                paths.insert(mp)
            }
        }
        return errs
    }

    /// Quantities parse, are non-negative, and requests do not exceed limits.
    static func validateResources(_ res: JSONValue?, _ path: String) -> [FieldError] {
        guard let res, !res.isNull else { return [] }
        var errs: [FieldError] = []
        var parsed: [String: [String: Quantity]] = [:]
        for kind in ["limits", "requests"] {
            for (name, v) in (res[kind]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let p = K.key(K.child(path, kind), name)
                for m in NameValidation.isQualifiedName(name) { errs.append(.invalid(p, FieldError.show(.string(name)), m)) }
                let text = v.stringValue ?? v.intValue.map(String.init) ?? v.doubleValue.map { String($0) } ?? ""
                guard let q = Quantity.parse(text) else {
                    errs.append(.invalid(p, FieldError.show(v), Quantity.syntaxError))
                    continue
                }
                if q.mantissa < 0 { errs.append(.invalid(p, FieldError.show(.string(q.canonical)), "must be greater than or equal to 0")) }
                parsed[kind, default: [:]][name] = q
            }
        }
        for (name, req) in (parsed["requests"] ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let lim = parsed["limits"]?[name], lim < req {
                errs.append(.invalid(K.key(K.child(path, "requests"), name), FieldError.show(.string(req.canonical)),
                                     "must be less than or equal to \(name) limit of \(lim.canonical)"))
            }
        }
        return errs
    }

    static func validateProbe(_ probe: JSONValue, _ p: String, kind: String) -> [FieldError] {
        var errs: [FieldError] = []
        let handlers = ["exec", "httpGet", "tcpSocket", "grpc"].filter { probe[$0].map { !$0.isNull } ?? false }
        if handlers.isEmpty {
            errs.append(.required(p, "must specify a handler type"))
        } else if handlers.count > 1 {
            errs.append(.forbidden(K.child(p, handlers[1]), "may not specify more than 1 handler type"))
        }
        for f in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
            errs += K.nonnegative(probe[f], K.child(p, f))
        }
        if kind != "readinessProbe", let st = probe["successThreshold"]?.intValue, st != 1 {
            errs.append(.invalid(K.child(p, "successThreshold"), String(st), "must be 1"))
        }
        if kind == "readinessProbe", probe["terminationGracePeriodSeconds"].map({ !$0.isNull }) ?? false {
            errs.append(.invalid(K.child(p, "terminationGracePeriodSeconds"), FieldError.show(probe["terminationGracePeriodSeconds"]),
                                 "must not be set for readinessProbes"))
        }
        if let h = probe["httpGet"], !h.isNull {
            errs += validatePortNumOrName(h["port"], K.child(K.child(p, "httpGet"), "port"))
            errs += K.enumValue(h["scheme"], K.child(K.child(p, "httpGet"), "scheme"), ["HTTP", "HTTPS"])
        }
        if let t = probe["tcpSocket"], !t.isNull {
            errs += validatePortNumOrName(t["port"], K.child(K.child(p, "tcpSocket"), "port"))
        }
        return errs
    }

    /// An `intstr` port: a valid number or an IANA service name.
    static func validatePortNumOrName(_ v: JSONValue?, _ path: String) -> [FieldError] {
        if let n = v?.intValue {
            return NameValidation.isValidPortNumber(n).map { .invalid(path, String(n), $0) }
        }
        if let s = v?.stringValue {
            return NameValidation.isValidPortName(s).map { .invalid(path, FieldError.show(.string(s)), $0) }
        }
        return [.required(path, "")]
    }

    static func validateTolerations(_ tolerations: JSONValue?, _ path: String) -> [FieldError] {
        var errs: [FieldError] = []
        for (i, t) in K.array(tolerations).enumerated() {
            let p = K.idx(path, i)
            let key = K.string(t["key"])
            let op = K.string(t["operator"])
            if !key.isEmpty {
                for m in NameValidation.isQualifiedName(key) { errs.append(.invalid(K.child(p, "key"), FieldError.show(.string(key)), m)) }
            } else if op != "Exists" {
                errs.append(.invalid(K.child(p, "operator"), FieldError.show(.string(op)),
                                     "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
            }
            if t["tolerationSeconds"].map({ !$0.isNull }) ?? false, K.string(t["effect"]) != "NoExecute" {
                errs.append(.invalid(K.child(p, "effect"), FieldError.show(t["effect"] ?? .string("")),
                                     "effect must be 'NoExecute' when `tolerationSeconds` is set"))
            }
            switch op {
            case "", "Equal":
                for m in NameValidation.isValidLabelValue(K.string(t["value"])) {
                    errs.append(.invalid(K.child(p, "value"), FieldError.show(t["value"]), m))
                }
            case "Exists":
                if !K.string(t["value"]).isEmpty {
                    errs.append(.invalid(K.child(p, "operator"), FieldError.show(t["value"]), "value must be empty when `operator` is 'Exists'"))
                }
            default:
                errs.append(.notSupported(K.child(p, "operator"), FieldError.show(.string(op)), ["Equal", "Exists"]))
            }
            if let e = t["effect"]?.stringValue, !e.isEmpty {
                errs += K.enumValue(t["effect"], K.child(p, "effect"), ["NoSchedule", "PreferNoSchedule", "NoExecute"])
            }
        }
        return errs
    }

    /// `ValidatePodTemplateSpec`: template metadata labels/annotations plus its spec.
    static func validateTemplate(_ template: JSONValue?, path: String) -> [FieldError] {
        guard let template, template.objectValue != nil else { return [.required(path, "")] }
        var errs = NameValidation.validateLabels(template[path: ["metadata", "labels"]], path: K.child(path, "labels"))
        errs += NameValidation.validateAnnotations(template[path: ["metadata", "annotations"]], path: K.child(path, "annotations"))
        errs += validate(template["spec"], path: K.child(path, "spec"))
        return errs
    }

    /// `ValidatePodTemplateSpecForReplicaSet`: selector must match, restartPolicy Always,
    /// no activeDeadlineSeconds.
    static func validateTemplateForController(_ template: JSONValue?, selector: JSONValue?, path: String, kind: String) -> [FieldError] {
        guard let template, template.objectValue != nil else { return [.required(path, "")] }
        var errs: [FieldError] = []
        if let selector, !K.selectorIsEmpty(selector) {
            let labels = K.stringMap(template[path: ["metadata", "labels"]])
            // An invalid selector is reported by the selector's own validation, not here.
            if let parsed = try? LabelSelector.fromJSON(selector), !parsed.matches(labels) {
                errs.append(.invalid(K.child(K.child(path, "metadata"), "labels"), K.showStringMap(template[path: ["metadata", "labels"]]),
                                     "`selector` does not match template `labels`"))
            }
        }
        errs += validateTemplate(template, path: path)
        let spec = template["spec"]
        if let rp = spec?["restartPolicy"]?.stringValue, rp != "Always" {
            errs.append(.notSupported(K.child(K.child(path, "spec"), "restartPolicy"), FieldError.show(.string(rp)), ["Always"]))
        }
        if let ads = spec?["activeDeadlineSeconds"], !ads.isNull {
            errs.append(.invalid(K.child(K.child(path, "spec"), "activeDeadlineSeconds"), FieldError.show(ads),
                                 "activeDeadlineSeconds in \(kind) is not Supported"))
        }
        return errs
    }
}
