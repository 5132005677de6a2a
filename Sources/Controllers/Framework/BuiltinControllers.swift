import KubeClient
import Logging

/// The controllers `ControllerManager` runs, one registration line each; every descriptor
/// lives with its controller.
enum BuiltinControllers {
    /// Every built-in controller, talking through `client`; the root CA publisher only with the
    /// cluster CA (`caPEM`), the CSR approver and signer only with `options.csrSigning`.
    static func all(client: any ResourceClient, caPEM: String?, options: ControllerManager.Options,
                    logger: Logger) -> [ControllerDescriptor] {
        let workers = options.workers
        var controllers: [ControllerDescriptor] = [
            ReplicaSetController.descriptor(client: client, workers: workers),
            ReplicaSetController.descriptor(.replicationController, client: client, workers: workers),
            DeploymentController.descriptor(client: client, workers: workers),
            DaemonSetController.descriptor(client: client, workers: workers),
            StatefulSetController.descriptor(client: client, workers: workers),
            GarbageCollector.descriptor(client: client, workers: workers),
            Scheduler.descriptor(client: client),
            NodeLifecycleController.descriptor(client: client, gracePeriod: options.nodeMonitorGracePeriod, workers: workers),
            NodeIPAMController.descriptor(client: client, clusterCIDR: options.clusterCIDR),
            NamespaceController.descriptor(client: client, workers: workers),
            ClusterRoleAggregationController.descriptor(client: client),
            ServiceEndpoints.endpointsDescriptor(client: client, workers: workers),
            ServiceEndpoints.slicesDescriptor(client: client, workers: workers),
            ClusterDNSEndpointsController.descriptor(client: client),
            ResourceQuotaController.descriptor(client: client, workers: workers),
            ServiceAccountController.descriptor(client: client),
            HorizontalPodAutoscalerController.descriptor(client: client, options: options.autoscaling, workers: workers, logger: logger),
            DisruptionController.descriptor(client: client, workers: workers),
            JobController.descriptor(client: client, workers: workers),
            TTLAfterFinishedController.descriptor(client: client),
            CronJobController.descriptor(client: client),
            PersistentVolumeClaimBinder.descriptor(client: client, workers: workers),
            PersistentVolumeReclaimer.descriptor(client: client, workers: workers),
            LocalPathProvisioner.descriptor(client: client, workers: workers),
        ]
        if let pem = caPEM {
            controllers.append(RootCAPublisher.descriptor(client: client, caPEM: pem))
        } else {
            logger.info("no cluster CA in the kubeconfig: kube-root-ca.crt is not published")
        }
        if let signing = options.csrSigning {
            controllers.append(CSRApprovingController.descriptor(client: client, signing: signing))
            controllers.append(CSRSigningController.descriptor(client: client, signing: signing))
        }
        return controllers
    }
}
