import KubeModel

/// The Containers / Init Containers and Volumes sections shared by pods and pod templates.
extension DescribeWriter {
    /// `space` is `""` for a pod and `"  "` inside a Pod Template; `statuses` only for pods.
    mutating func containers(_ label: String, _ containers: [JSONValue], statuses: [JSONValue]?, space: String) {
        write(0, "\(space)\(label):\n")
        for c in containers {
            let name = c["name"]?.stringValue ?? ""
            let status = statuses?.first { $0["name"]?.stringValue == name }
            write(1, "\(space.isEmpty ? "" : " ")\(name):\n")
            if let status { write(2, "Container ID:\t\(status["containerID"]?.stringValue ?? "")\n") }
            write(2, "Image:\t\(c["image"]?.stringValue ?? "")\n")
            if let status { write(2, "Image ID:\t\(status["imageID"]?.stringValue ?? "")\n") }
            let ports = c["ports"]?.arrayValue ?? []
            let portText = ports.map { "\($0["containerPort"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")" }.joined(separator: ", ")
            write(2, portText.contains(",") ? "Ports:\t\(portText)\n" : "Port:\t\(portText.isEmpty ? "<none>" : portText)\n")
            let hostText = ports.map { "\($0["hostPort"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")" }.joined(separator: ", ")
            write(2, hostText.contains(",") ? "Host Ports:\t\(hostText)\n" : "Host Port:\t\(hostText.isEmpty ? "<none>" : hostText)\n")
            if let policy = c["restartPolicy"]?.stringValue { write(2, "Restart Policy:\t\(policy)\n") }
            for key in ["command", "args"] {
                guard let list = c[key]?.arrayValue, !list.isEmpty else { continue }
                write(2, key == "command" ? "Command:\n" : "Args:\n")
                for part in list {
                    for line in (part.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false) { write(3, "\(line)\n") }
                }
            }
            if let status {
                state("State", status["state"])
                if status["lastState"]?["terminated"] != nil { state("Last State", status["lastState"]) }
                write(2, "Ready:\t\(status["ready"]?.boolValue == true ? "True" : "False")\n")
                write(2, "Restart Count:\t\(status["restartCount"]?.intValue ?? 0)\n")
            }
            resources(c["resources"])
            for (key, title) in [("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"), ("startupProbe", "Startup")] {
                if let p = c[key], p.objectValue != nil { write(2, "\(title):\t\(Self.probe(p))\n") }
            }
            if let envFrom = c["envFrom"]?.arrayValue, !envFrom.isEmpty {
                write(2, "Environment Variables from:\n")
                for e in envFrom {
                    let (from, ref) = e["configMapRef"] != nil ? ("ConfigMap", e["configMapRef"]) : ("Secret", e["secretRef"])
                    let optional = ref?["optional"]?.boolValue ?? false
                    let name = ref?["name"]?.stringValue ?? ""
                    if let prefix = e["prefix"]?.stringValue, !prefix.isEmpty {
                        write(3, "\(name)\t\(from) with prefix '\(prefix)'\tOptional: \(optional)\n")
                    } else {
                        write(3, "\(name)\t\(from)\tOptional: \(optional)\n")
                    }
                }
            }
            env(c["env"]?.arrayValue ?? [])
            let mounts = (c["volumeMounts"]?.arrayValue ?? []).sorted { ($0["mountPath"]?.stringValue ?? "") < ($1["mountPath"]?.stringValue ?? "") }
            write(2, "Mounts:\(mounts.isEmpty ? "\t<none>" : "")\n")
            for m in mounts {
                var flags = [m["readOnly"]?.boolValue == true ? "ro" : "rw"]
                if let sub = m["subPath"]?.stringValue, !sub.isEmpty { flags.append("path=\"\(sub)\"") }
                write(3, "\(m["mountPath"]?.stringValue ?? "") from \(m["name"]?.stringValue ?? "") (\(flags.joined(separator: ",")))\n")
            }
        }
    }

    private mutating func state(_ title: String, _ s: JSONValue?) {
        if let r = s?["running"], r.objectValue != nil {
            write(2, "\(title):\tRunning\n")
            write(3, "Started:\t\(Self.rfc1123z(r["startedAt"]?.stringValue))\n")
        } else if let t = s?["terminated"], t.objectValue != nil {
            write(2, "\(title):\tTerminated\n")
            if let r = t["reason"]?.stringValue, !r.isEmpty { write(3, "Reason:\t\(r)\n") }
            if let m = t["message"]?.stringValue, !m.isEmpty { write(3, "Message:\t\(m)\n") }
            write(3, "Exit Code:\t\(t["exitCode"]?.intValue ?? 0)\n")
            if let sig = t["signal"]?.intValue, sig > 0 { write(3, "Signal:\t\(sig)\n") }
            write(3, "Started:\t\(Self.rfc1123z(t["startedAt"]?.stringValue))\n")
            write(3, "Finished:\t\(Self.rfc1123z(t["finishedAt"]?.stringValue))\n")
        } else {
            write(2, "\(title):\tWaiting\n")
            if let r = s?["waiting"]?["reason"]?.stringValue, !r.isEmpty { write(3, "Reason:\t\(r)\n") }
        }
    }

    private mutating func resources(_ r: JSONValue?) {
        for (key, title) in [("limits", "Limits"), ("requests", "Requests")] {
            guard let o = r?[key]?.objectValue, !o.isEmpty else { continue }
            write(2, "\(title):\n")
            for name in o.keys.sorted() {
                let q = o[name]?.stringValue.flatMap { Quantity.parse($0)?.canonical } ?? o[name]?.stringValue ?? ""
                write(3, "\(name):\t\(q)\n")
            }
        }
    }

    private mutating func env(_ vars: [JSONValue]) {
        write(2, "Environment:\(vars.isEmpty ? "\t<none>" : "")\n")
        for e in vars {
            let name = e["name"]?.stringValue ?? ""
            guard let from = e["valueFrom"], from.objectValue != nil else {
                let lines = (e["value"]?.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                for (i, line) in lines.enumerated() { write(3, i == 0 ? "\(name):\t\(line)\n" : "\t\(line)\n") }
                continue
            }
            if let f = from["fieldRef"], f.objectValue != nil {
                write(3, "\(name):\t (\(f["apiVersion"]?.stringValue ?? "v1"):\(f["fieldPath"]?.stringValue ?? ""))\n")
            } else if let r = from["resourceFieldRef"], r.objectValue != nil {
                write(3, "\(name):\t (\(r["resource"]?.stringValue ?? ""))\n")
            } else if let s = from["secretKeyRef"], s.objectValue != nil {
                write(3, "\(name):\t<set to the key '\(s["key"]?.stringValue ?? "")' in secret '\(s["name"]?.stringValue ?? "")'>\tOptional: \(s["optional"]?.boolValue ?? false)\n")
            } else if let c = from["configMapKeyRef"], c.objectValue != nil {
                write(3, "\(name):\t<set to the key '\(c["key"]?.stringValue ?? "")' of config map '\(c["name"]?.stringValue ?? "")'>\tOptional: \(c["optional"]?.boolValue ?? false)\n")
            }
        }
    }

    /// `http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3`.
    static func probe(_ p: JSONValue) -> String {
        let n = { (k: String) in p[k]?.intValue ?? 0 }
        let attrs = "delay=\(n("initialDelaySeconds"))s timeout=\(n("timeoutSeconds"))s period=\(n("periodSeconds"))s #success=\(n("successThreshold")) #failure=\(n("failureThreshold"))"
        if let e = p["exec"], e.objectValue != nil {
            return "exec [\((e["command"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " "))] \(attrs)"
        }
        if let h = p["httpGet"], h.objectValue != nil {
            let scheme = (h["scheme"]?.stringValue ?? "HTTP").lowercased()
            let port = h["port"].map { $0.stringValue ?? ServerTable.cellText($0) } ?? ""
            return "http-get \(scheme)://\(h["host"]?.stringValue ?? ""):\(port)\(h["path"]?.stringValue ?? "") \(attrs)"
        }
        if let t = p["tcpSocket"], t.objectValue != nil {
            let port = t["port"].map { $0.stringValue ?? ServerTable.cellText($0) } ?? ""
            return "tcp-socket \(t["host"]?.stringValue ?? ""):\(port) \(attrs)"
        }
        if let g = p["grpc"], g.objectValue != nil {
            return "grpc <pod>:\(g["port"]?.intValue ?? 0) \(g["service"]?.stringValue ?? "") \(attrs)"
        }
        return "unknown \(attrs)"
    }

    mutating func volumes(_ volumes: [JSONValue], space: String) {
        if volumes.isEmpty { write(0, "\(space)Volumes:\t<none>\n"); return }
        write(0, "\(space)Volumes:\n")
        for v in volumes {
            write(1, "\(space.isEmpty ? "" : " ")\(v["name"]?.stringValue ?? ""):\n")
            if let e = v["emptyDir"], e.objectValue != nil {
                write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t\(e["medium"]?.stringValue ?? "")\n    SizeLimit:\t\(e["sizeLimit"]?.stringValue ?? "<unset>")\n")
            } else if let s = v["secret"], s.objectValue != nil {
                write(2, "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t\(s["secretName"]?.stringValue ?? "")\n    Optional:\t\(s["optional"]?.boolValue ?? false)\n")
            } else if let c = v["configMap"], c.objectValue != nil {
                write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t\(c["name"]?.stringValue ?? "")\n    Optional:\t\(c["optional"]?.boolValue ?? false)\n")
            } else if let h = v["hostPath"], h.objectValue != nil {
                write(2, "Type:\tHostPath (bare host directory volume)\n    Path:\t\(h["path"]?.stringValue ?? "")\n    HostPathType:\t\(h["type"]?.stringValue ?? "")\n")
            } else if let p = v["projected"], p.objectValue != nil {
                write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
                for source in p["sources"]?.arrayValue ?? [] {
                    if let s = source["secret"], s.objectValue != nil {
                        write(2, "SecretName:\t\(s["name"]?.stringValue ?? "")\n    Optional:\t\(s["optional"]?.boolValue ?? false)\n")
                    } else if source["downwardAPI"] != nil {
                        write(2, "DownwardAPI:\ttrue\n")
                    } else if let c = source["configMap"], c.objectValue != nil {
                        write(2, "ConfigMapName:\t\(c["name"]?.stringValue ?? "")\n    Optional:\t\(c["optional"]?.boolValue ?? false)\n")
                    } else if let t = source["serviceAccountToken"], t.objectValue != nil {
                        write(2, "TokenExpirationSeconds:\t\(t["expirationSeconds"]?.intValue ?? 3600)\n")
                    }
                }
            } else {
                write(2, "<unknown>\n")
            }
        }
    }
}
