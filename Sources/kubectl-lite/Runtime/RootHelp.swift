/// `kubectl-lite --help`: the verbs grouped as kubectl groups them.
enum RootHelp {
    static let groups: [(title: String, verbs: [(String, String)])] = [
        ("Basic Commands (Beginner)", [
            ("create", "Create a resource from a file or from stdin"),
            ("expose", "Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service"),
            ("run", "Run a particular image on the cluster"),
            ("set", "Set specific features on objects"),
        ]),
        ("Basic Commands (Intermediate)", [
            ("explain", "Get documentation for a resource"),
            ("get", "Display one or many resources"),
            ("edit", "Edit a resource on the server"),
            ("delete", "Delete resources by file names, stdin, resources and names, or by resources and label selector"),
        ]),
        ("Deploy Commands", [
            ("rollout", "Manage the rollout of a resource"),
            ("scale", "Set a new size for a deployment, replica set, or replication controller"),
            ("autoscale", "Auto-scale a deployment, replica set, stateful set, or replication controller"),
        ]),
        ("Cluster Management Commands", [
            ("cluster-info", "Display cluster information"),
            ("top", "Display resource (CPU/memory) usage"),
        ]),
        ("Troubleshooting and Debugging Commands", [
            ("describe", "Show details of a specific resource or group of resources"),
            ("logs", "Print the logs for a container in a pod"),
            ("exec", "Execute a command in a container"),
            ("auth", "Inspect authorization"),
            ("events", "List events"),
        ]),
        ("Advanced Commands", [
            ("apply", "Apply a configuration to a resource by file name or stdin"),
            ("patch", "Update fields of a resource"),
            ("wait", "Experimental: Wait for a specific condition on one or many resources"),
        ]),
        ("Settings Commands", [
            ("label", "Update the labels on a resource"),
            ("annotate", "Update the annotations on a resource"),
        ]),
        ("Other Commands", [
            ("api-resources", "Print the supported API resources on the server"),
            ("api-versions", "Print the supported API versions on the server, in the form of \"group/version\""),
            ("config", "Modify kubeconfig files"),
            ("version", "Print the client and server version information"),
        ]),
    ]

    static var text: String {
        var out = "kubectl-lite controls the Kubernetes cluster manager.\n\n Find more information at: https://kubernetes.io/docs/reference/kubectl/\n\n"
        let width = (groups.flatMap { $0.verbs.map(\.0.count) }.max() ?? 0) + 3
        for g in groups {
            out += g.title + ":\n"
            for (verb, summary) in g.verbs {
                out += "  " + verb + String(repeating: " ", count: max(1, width - verb.count)) + summary + "\n"
            }
            out += "\n"
        }
        out += "Usage:\n  kubectl-lite [flags] [options]\n\n"
        out += "Use \"kubectl-lite <command> --help\" for more information about a given command.\n"
        return out
    }
}
