/// The admission plugins `caravel server` runs, in Kubernetes' order: mutating defaults
/// first (ServiceAccount, LimitRanger), policy checks after (PodSecurity, ResourceQuota).
enum DefaultAdmission {
    static func chain(_ config: APIServerConfiguration) -> AdmissionChain {
        var plugins: [any AdmissionPlugin] = []
        // Each plugin adds itself here, one line, in order.
        plugins.append(ServiceAccountAdmission(caCertificatePath: config.tls ? config.pkiDirectory + "/ca.crt" : nil))
        plugins.append(CertificateSigningRequestAdmission())
        plugins.append(LimitRanger())
        plugins.append(DefaultStorageClassAdmission())
        plugins.append(StorageObjectInUseProtection())
        plugins.append(PodSecurityAdmission())
        plugins.append(ResourceQuotaAdmission())
        _ = config
        return AdmissionChain(plugins)
    }
}
