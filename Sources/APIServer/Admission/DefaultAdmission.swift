/// The admission plugins `caravel server` runs, in Kubernetes' order: mutating defaults
/// first (ServiceAccount, LimitRanger, Priority, then the mutating webhooks), policy checks after
/// (PodSecurity, ValidatingAdmissionPolicies, the validating webhooks, ResourceQuota last so refused
/// writes use no quota).
enum DefaultAdmission {
    static func chain(_ config: APIServerConfiguration, webhooks: WebhookConfigurations = WebhookConfigurations()) -> AdmissionChain {
        var plugins: [any AdmissionPlugin] = []
        // Each plugin adds itself here, one line, in order.
        plugins.append(ServiceAccountAdmission(caCertificatePath: config.tls ? config.pkiDirectory + "/ca.crt" : nil))
        plugins.append(CertificateSigningRequestAdmission())
        plugins.append(LimitRanger())
        plugins.append(PriorityAdmission())
        plugins.append(DefaultStorageClassAdmission())
        plugins.append(StorageObjectInUseProtection())
        plugins.append(MutatingAdmissionWebhook(configurations: webhooks))
        plugins.append(PodSecurityAdmission())
        plugins.append(ValidatingAdmissionPolicyPlugin(configurations: webhooks))
        plugins.append(ValidatingAdmissionWebhook(configurations: webhooks))
        plugins.append(ResourceQuotaAdmission())
        _ = config
        return AdmissionChain(plugins)
    }
}
