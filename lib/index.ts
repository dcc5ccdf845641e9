// Public API. Types are exported with `export type` so transpile-only tooling (swc) drops them.
export { AmlFunctionDeployment } from "./aml-function-deployment";
export type { AmlFunctionDeploymentProps, IResourceGroupRef, ScalingOptions } from "./aml-function-deployment";
export { ModelSource } from "./model-source";
export { PythonEnvironment } from "./python-environment";
export { PythonVersion } from "./python-version";
export { PlanSku, RegistrySku } from "./skus";
export { ScoringRegistry } from "./registry/scoring-registry";
export type { ScoringRegistryProps, IContainerRegistryRef } from "./registry/scoring-registry";
export { ScoringPlan } from "./plan/scoring-plan";
export type { ScoringPlanProps, IServicePlanRef } from "./plan/scoring-plan";
export { HttpTrigger, HttpAuthLevel } from "./triggers/http-trigger";
export type { HttpTriggerProps } from "./triggers/http-trigger";
export { BlobTrigger, BLOB_POISON_QUEUE } from "./triggers/blob-trigger";
export type { BlobTriggerProps, IBlobTriggerStorageAccount } from "./triggers/blob-trigger";
export { ServiceBusTrigger, ServiceBusCardinality, ServiceBusSku } from "./triggers/service-bus-trigger";
export type { ServiceBusTriggerProps, IServiceBusNamespaceRef } from "./triggers/service-bus-trigger";
export type { ITrigger, ITriggerTarget, TriggerBinding, TriggerIdentity, AdapterKind } from "./triggers/trigger";
export { ValidationError } from "./errors";
