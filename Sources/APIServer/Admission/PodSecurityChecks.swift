import KubeModel

/// The Pod Security Standards checks (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
/// each answering Kubernetes' short reason and detail. Checks are evaluated in the order of
/// their IDs, as pod-security-admission does, so messages list violations in the same order.
public enum PodSecurityChecks {
    public enum Level: String, Sendable, Comparable {
        case privileged, baseline, restricted

        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
        private var rank: Int { self == .privileged ? 0 : self == .baseline ? 1 : 2 }
    }

    struct Violation: Sendable, Equatable {
        var reason: String
        var detail: String

        /// `reason (detail)`, or just the reason when there is no detail.
        var text: String { detail.isEmpty ? reason : "\(reason) (\(detail))" }
    }

    /// One container as the checks see it: its name and securityContext.
    struct Container {
        var name: String
        var object: JSONValue
        var sc: JSONValue { object["securityContext"] ?? .null }
    }

    /// Capabilities a baseline container may add.
    static let baselineCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ]
    static let safeSysctls: Set<String> = [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ]
    /// Volume sources a restricted pod may use.
    static let restrictedVolumeTypes: Set<String> = [
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "image",
    ]
    static let allowedSELinuxTypes: Set<String> = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]

    /// The pod spec plus the annotations some checks read.
    struct PodView {
        var spec: JSONValue
        var annotations: [String: JSONValue]
        subscript(_ key: String) -> JSONValue? { spec[key] }
    }

    typealias Check = (PodView, [Container]) -> Violation?

    /// The checks that apply at `level`, in ID order. Restricted checks replace the baseline
    /// checks they tighten (capabilities, seccomp, hostPath volumes), as in Kubernetes.
    static func checks(for level: Level) -> [Check] {
        switch level {
        case .privileged:
            return []
        case .baseline:
            return [appArmor, capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount,
                    seLinuxOptions, seccompBaseline, sysctls]
        case .restricted:
            return [allowPrivilegeEscalation, appArmor, capabilitiesRestricted, hostNamespaces, hostPorts, privileged,
                    procMount, restrictedVolumes, runAsNonRoot, runAsUser, seLinuxOptions, seccompRestricted, sysctls]
        }
    }

    /// Every violation of `spec` (a PodSpec) at `level`; `metadata` carries AppArmor annotations.
    static func evaluate(spec: JSONValue, metadata: JSONValue?, level: Level) -> [Violation] {
        var containers: [Container] = []
        for key in ["initContainers", "containers", "ephemeralContainers"] {
            for c in spec[key]?.arrayValue ?? [] where c.objectValue != nil {
                containers.append(Container(name: c["name"]?.stringValue ?? "", object: c))
            }
        }
        let pod = PodView(spec: spec, annotations: metadata?["annotations"]?.objectValue ?? [:])
        return checks(for: level).compactMap { $0(pod, containers) }
    }

    // MARK: - wording helpers

    /// `container "a"` or `containers "a", "b"`.
    static func containers(_ names: [String]) -> String {
        (names.count == 1 ? "container " : "containers ") + quoted(names)
    }

    static func quoted(_ values: [String]) -> String { values.map { "\"\($0)\"" }.joined(separator: ", ") }

    static func podSC(_ pod: PodView) -> JSONValue { pod["securityContext"] ?? .null }

    // MARK: - baseline

    static func hostNamespaces(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let set = ["hostNetwork", "hostPID", "hostIPC"].filter { pod[$0]?.boolValue == true }
        return set.isEmpty ? nil : Violation(reason: "host namespaces", detail: set.map { "\($0)=true" }.joined(separator: ", "))
    }

    static func privileged(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let bad = cs.filter { $0.sc["privileged"]?.boolValue == true }.map(\.name)
        return bad.isEmpty ? nil : Violation(reason: "privileged", detail: "\(containers(bad)) must not set securityContext.privileged=true")
    }

    static func addedCapabilities(_ c: Container) -> [String] {
        (c.sc[path: ["capabilities", "add"]]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// `containers "a", "b" must not include "X", "Y" in securityContext.capabilities.add`.
    static func forbiddenAdds(_ cs: [Container], allowed: Set<String>) -> String? {
        var names: [String] = []
        var caps: [String] = []
        for c in cs {
            let bad = addedCapabilities(c).filter { !allowed.contains($0) }
            guard !bad.isEmpty else { continue }
            names.append(c.name)
            for cap in bad where !caps.contains(cap) { caps.append(cap) }
        }
        return names.isEmpty ? nil : "\(containers(names)) must not include \(quoted(caps.sorted())) in securityContext.capabilities.add"
    }

    static func capabilitiesBaseline(_ pod: PodView, _ cs: [Container]) -> Violation? {
        forbiddenAdds(cs, allowed: baselineCapabilities).map { Violation(reason: "non-default capabilities", detail: $0) }
    }

    static func hostPathVolumes(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let bad = (pod["volumes"]?.arrayValue ?? []).filter { $0["hostPath"] != nil }.map { $0["name"]?.stringValue ?? "" }
        guard !bad.isEmpty else { return nil }
        return Violation(reason: "hostPath volumes", detail: (bad.count == 1 ? "volume " : "volumes ") + quoted(bad))
    }

    static func hostPorts(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var names: [String] = []
        var ports: [String] = []
        for c in cs {
            let used = (c.object["ports"]?.arrayValue ?? []).compactMap { $0["hostPort"]?.intValue }.filter { $0 != 0 }
            guard !used.isEmpty else { continue }
            names.append(c.name)
            for p in used where !ports.contains(String(p)) { ports.append(String(p)) }
        }
        guard !names.isEmpty else { return nil }
        let verb = names.count == 1 ? "uses" : "use"
        return Violation(reason: "hostPort", detail: "\(containers(names)) \(verb) \(ports.count == 1 ? "hostPort" : "hostPorts") \(ports.joined(separator: ", "))")
    }

    static func appArmor(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var details: [String] = []
        let allowed: (String) -> Bool = { $0 == "runtime/default" || $0.hasPrefix("localhost/") }
        let annotations = pod.annotations
        for key in annotations.keys.sorted() where key.hasPrefix("container.apparmor.security.beta.kubernetes.io/") {
            let v = annotations[key]?.stringValue ?? ""
            if !allowed(v) { details.append("\(key)=\"\(v)\"") }
        }
        if podSC(pod)[path: ["appArmorProfile", "type"]]?.stringValue == "Unconfined" {
            details.append("pod must not set securityContext.appArmorProfile.type to \"Unconfined\"")
        }
        let bad = cs.filter { $0.sc[path: ["appArmorProfile", "type"]]?.stringValue == "Unconfined" }.map(\.name)
        if !bad.isEmpty { details.append("\(containers(bad)) must not set securityContext.appArmorProfile.type to \"Unconfined\"") }
        return details.isEmpty ? nil : Violation(reason: "forbidden AppArmor profiles", detail: details.joined(separator: "; "))
    }

    static func seLinuxOptions(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var setters: [String] = []
        var problems: [String] = []
        func inspect(_ opts: JSONValue?) -> Bool {
            guard let opts, opts.objectValue != nil else { return false }
            var bad = false
            if let t = opts["type"]?.stringValue, !allowedSELinuxTypes.contains(t) {
                bad = true
                let p = "type \"\(t)\""
                if !problems.contains(p) { problems.append(p) }
            }
            for field in ["user", "role"] {
                if let v = opts[field]?.stringValue, !v.isEmpty {
                    bad = true
                    let p = "\(field) \"\(v)\""
                    if !problems.contains(p) { problems.append(p) }
                }
            }
            return bad
        }
        let podBad = inspect(podSC(pod)["seLinuxOptions"])
        let bad = cs.filter { inspect($0.sc["seLinuxOptions"]) }.map(\.name)
        guard podBad || !bad.isEmpty else { return nil }
        if podBad { setters.append(bad.isEmpty ? "pod" : "pod and") }
        if !bad.isEmpty { setters.append(containers(bad)) }
        return Violation(reason: "seLinuxOptions",
                         detail: "\(setters.joined(separator: " ")) set forbidden securityContext.seLinuxOptions: \(problems.joined(separator: "; "))")
    }

    static func procMount(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let bad = cs.filter { ($0.sc["procMount"]?.stringValue ?? "Default") != "Default" }
        guard !bad.isEmpty else { return nil }
        let values = Array(Set(bad.compactMap { $0.sc["procMount"]?.stringValue })).sorted()
        return Violation(reason: "procMount", detail: "\(containers(bad.map(\.name))) must not set securityContext.procMount to \(quoted(values))")
    }

    static func seccompBaseline(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var details: [String] = []
        if podSC(pod)[path: ["seccompProfile", "type"]]?.stringValue == "Unconfined" {
            details.append("pod must not set securityContext.seccompProfile.type to \"Unconfined\"")
        }
        let bad = cs.filter { $0.sc[path: ["seccompProfile", "type"]]?.stringValue == "Unconfined" }.map(\.name)
        if !bad.isEmpty { details.append("\(containers(bad)) must not set securityContext.seccompProfile.type to \"Unconfined\"") }
        return details.isEmpty ? nil : Violation(reason: "seccompProfile", detail: details.joined(separator: "; "))
    }

    static func sysctls(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let names = (podSC(pod)["sysctls"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.filter { !safeSysctls.contains($0) }
        return names.isEmpty ? nil : Violation(reason: "forbidden sysctls", detail: names.joined(separator: ", "))
    }

    // MARK: - restricted

    static func restrictedVolumes(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var names: [String] = []
        var types: [String] = []
        for v in pod["volumes"]?.arrayValue ?? [] {
            let bad = (v.objectValue ?? [:]).keys.filter { $0 != "name" && !restrictedVolumeTypes.contains($0) }.sorted()
            guard !bad.isEmpty else { continue }
            names.append(v["name"]?.stringValue ?? "")
            for t in bad where !types.contains(t) { types.append(t) }
        }
        guard !names.isEmpty else { return nil }
        let subject = (names.count == 1 ? "volume " : "volumes ") + quoted(names)
        let verb = names.count == 1 ? "uses" : "use"
        return Violation(reason: "restricted volume types",
                         detail: "\(subject) \(verb) restricted volume \(types.count == 1 ? "type" : "types") \(quoted(types))")
    }

    static func allowPrivilegeEscalation(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let bad = cs.filter { $0.sc["allowPrivilegeEscalation"]?.boolValue != false }.map(\.name)
        return bad.isEmpty ? nil : Violation(reason: "allowPrivilegeEscalation != false",
                                             detail: "\(containers(bad)) must set securityContext.allowPrivilegeEscalation=false")
    }

    static func capabilitiesRestricted(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var details: [String] = []
        let noDrop = cs.filter { c in
            !(c.sc[path: ["capabilities", "drop"]]?.arrayValue ?? []).contains { $0.stringValue == "ALL" }
        }.map(\.name)
        if !noDrop.isEmpty { details.append("\(containers(noDrop)) must set securityContext.capabilities.drop=[\"ALL\"]") }
        if let adds = forbiddenAdds(cs, allowed: ["NET_BIND_SERVICE"]) { details.append(adds) }
        return details.isEmpty ? nil : Violation(reason: "unrestricted capabilities", detail: details.joined(separator: "; "))
    }

    static func runAsNonRoot(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var details: [String] = []
        let podValue = podSC(pod)["runAsNonRoot"]?.boolValue
        if podValue == false { details.append("pod must not set securityContext.runAsNonRoot=false") }
        let explicit = cs.filter { $0.sc["runAsNonRoot"]?.boolValue == false }.map(\.name)
        if !explicit.isEmpty { details.append("\(containers(explicit)) must not set securityContext.runAsNonRoot=false") }
        if podValue != true {
            let implicit = cs.filter { $0.sc["runAsNonRoot"]?.boolValue == nil }.map(\.name)
            if !implicit.isEmpty { details.append("pod or \(containers(implicit)) must set securityContext.runAsNonRoot=true") }
        }
        return details.isEmpty ? nil : Violation(reason: "runAsNonRoot != true", detail: details.joined(separator: "; "))
    }

    static func runAsUser(_ pod: PodView, _ cs: [Container]) -> Violation? {
        var details: [String] = []
        if podSC(pod)["runAsUser"]?.intValue == 0 { details.append("pod must not set runAsUser=0") }
        let bad = cs.filter { $0.sc["runAsUser"]?.intValue == 0 }.map(\.name)
        if !bad.isEmpty { details.append("\(containers(bad)) must not set runAsUser=0") }
        return details.isEmpty ? nil : Violation(reason: "runAsUser=0", detail: details.joined(separator: "; "))
    }

    static func seccompRestricted(_ pod: PodView, _ cs: [Container]) -> Violation? {
        let good: Set<String> = ["RuntimeDefault", "Localhost"]
        var details: [String] = []
        let podType = podSC(pod)[path: ["seccompProfile", "type"]]?.stringValue
        if let podType, !good.contains(podType) {
            details.append("pod must not set securityContext.seccompProfile.type to \"\(podType)\"")
        }
        var explicit: [String] = []
        var badTypes: [String] = []
        var implicit: [String] = []
        for c in cs {
            if let t = c.sc[path: ["seccompProfile", "type"]]?.stringValue {
                if !good.contains(t) {
                    explicit.append(c.name)
                    if !badTypes.contains(t) { badTypes.append(t) }
                }
            } else if podType.map({ !good.contains($0) }) ?? true {
                implicit.append(c.name)
            }
        }
        if !explicit.isEmpty { details.append("\(containers(explicit)) must not set securityContext.seccompProfile.type to \(quoted(badTypes))") }
        if !implicit.isEmpty && podType == nil {
            details.append("pod or \(containers(implicit)) must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"")
        }
        return details.isEmpty ? nil : Violation(reason: "seccompProfile", detail: details.joined(separator: "; "))
    }
}
