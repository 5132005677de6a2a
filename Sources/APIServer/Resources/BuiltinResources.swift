/// Every built-in kind the server serves, one strategy each.
public enum BuiltinResources {
    public static let all: [any ResourceStrategy] = [
        // core/v1
        NamespaceStrategy(),
        PodStrategy(),
        ServiceStrategy(),
        EndpointsStrategy(),
        SecretStrategy(),
        ConfigMapStrategy(),
        ServiceAccountStrategy(),
        NodeStrategy(),
        EventStrategy(),
        LimitRangeStrategy(),
        ResourceQuotaStrategy(),
        ReplicationControllerStrategy(),
        PersistentVolumeStrategy(),
        PersistentVolumeClaimStrategy(),
        // apps/v1
        DeploymentStrategy(),
        ReplicaSetStrategy(),
        DaemonSetStrategy(),
        StatefulSetStrategy(),
        ControllerRevisionStrategy(),
        // batch/v1
        JobStrategy(),
        CronJobStrategy(),
        // autoscaling/v2 (+v1)
        HorizontalPodAutoscalerStrategy(),
        // policy/v1
        PodDisruptionBudgetStrategy(),
        // networking, coordination, discovery
        NetworkPolicyStrategy(),
        LeaseStrategy(),
        EndpointSliceStrategy(),
        // scheduling.k8s.io/v1
        PriorityClassStrategy(),
        // storage.k8s.io/v1
        StorageClassStrategy(),
        // rbac.authorization.k8s.io/v1, authorization.k8s.io/v1
        RoleStrategy(),
        ClusterRoleStrategy(),
        RoleBindingStrategy(),
        ClusterRoleBindingStrategy(),
        AccessReviewStrategy(isSelf: true),
        AccessReviewStrategy(isSelf: false),
        AccessReviewStrategy(.selfSubjectRulesReview),
        // certificates.k8s.io/v1
        CertificateSigningRequestStrategy(),
        // apiextensions.k8s.io/v1
        CustomResourceDefinitionStrategy(),
        // apiregistration.k8s.io/v1
        APIServiceStrategy(),
        // admissionregistration.k8s.io/v1
        ValidatingWebhookConfigurationStrategy(),
        MutatingWebhookConfigurationStrategy(),
        ValidatingAdmissionPolicyStrategy(),
        ValidatingAdmissionPolicyBindingStrategy(),
    ]
}
