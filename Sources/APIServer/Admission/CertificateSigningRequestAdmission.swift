import KubeModel

/// Records who asked for a certificate: `spec.username`, `uid` and `groups` of a new
/// CertificateSigningRequest come from the authenticated caller, whatever the body said, so the
/// approver can trust them (Kubernetes' CSR strategy does this on create; the spec never
/// changes after).
struct CertificateSigningRequestAdmission: AdmissionPlugin {
    let name = "CertificateSigningRequestRequester"

    func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard request.operation == .create, request.resource.group == "certificates.k8s.io", request.resource.plural == "certificatesigningrequests",
              let user = request.user else { return }
        request.object[path: ["spec", "username"]] = .string(user.name)
        request.object[path: ["spec", "uid"]] = user.uid.isEmpty ? nil : .string(user.uid)
        request.object[path: ["spec", "groups"]] = .array(user.groups.map(JSONValue.string))
        request.object[path: ["spec", "extra"]] = nil
    }
}
