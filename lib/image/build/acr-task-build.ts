import { Construct } from "constructs";
import { ContainerRegistryTask } from "@cdktf/provider-azurerm/lib/container-registry-task";
import { ContainerRegistryTaskScheduleRunNow } from "@cdktf/provider-azurerm/lib/container-registry-task-schedule-run-now";
import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { StorageBlob } from "@cdktf/provider-azurerm/lib/storage-blob";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { invalid } from "../../errors";
import { DerivedNames, deriveNames } from "../../naming";
import { createSecureStorageAccount } from "../../security/secure-storage-account";
import { RegistrySku } from "../../skus";
import { BuiltInRole, grantRole } from "../../security/role-assignment";
import { buildTaskYaml, CLIENT_ID_VALUE } from "./task-yaml";
import type { IImageBuild, ImageBuildBinding, ImageBuildTarget } from "./image-build-target";

/** Options of {@link ImageBuild.acrTask}. */
export interface AcrTaskBuildOptions {
  /**
   * Seconds the whole build run may take (the task's `timeout_in_seconds`; also each step's
   * timeout), 300–28800.
   * @default 3600
   */
  readonly timeoutSeconds?: number;
  /**
   * CPU cores of the Azure-hosted build agent (`agent_setting.cpu`). The hosted pool offers 2;
   * on a dedicated agent pool the pool's tier decides, so leave it unset there.
   * @default 2
   */
  readonly cpu?: number;
  /**
   * Reuse the layers of the previous image as a build cache: the build step runs with BuildKit
   * (its env holds `DOCKER_BUILDKIT=1`: ACR's builder otherwise runs the classic builder, which
   * ignores this cache), each build also tags its image `:buildcache` with BuildKit's inline
   * cache metadata (`BUILDKIT_INLINE_CACHE=1`), and the next one builds with
   * `--cache-from <repository>:buildcache`, so a change to the model or the script does not
   * reinstall the Python packages. The extra tag points at an image that is pushed anyway, so it
   * costs no storage of its own; the task needs no right beyond AcrPush for it.
   * @default false
   */
  readonly cacheFromPreviousImage?: boolean;
  /**
   * A dedicated ACR agent pool (`azurerm_container_registry_agent_pool`, Premium registries) to run
   * on, e.g. for a registry or storage behind a firewall: the Azure-hosted pool cannot reach them
   * with a user-assigned identity (docs/image-build.md, "How the ACR build works"). Refused at synth when the
   * registry is a ScoringRegistry (also the deployment's own) that is not Premium.
   * @default the Azure-hosted pool
   */
  readonly agentPoolName?: string;
}

export const DEFAULT_TIMEOUT_SECONDS = 3600;
/** Built-in role that can push (and pull) images in a registry. */
const ACR_PUSH = "AcrPush";
const MIN_TIMEOUT_SECONDS = 300;
const MAX_TIMEOUT_SECONDS = 28800;
/** The CPU counts the Azure-hosted agent accepts (azurerm docs: "Possible value is 2"). */
const HOSTED_CPU_VALUES: readonly number[] = [2];
export const DEFAULT_CPU = 2;
/**
 * Name of the build's own identity for a deployment's derived names: `id-<name>-build`.
 */
export function buildIdentityName(names: DerivedNames): string {
  return `${names.identity}-build`;
}

/** Private container of the build storage account that holds the context archives. */
export const CONTEXT_CONTAINER_NAME = "build-contexts";

const OPTION_NAMES: readonly string[] = ["timeoutSeconds", "cpu", "cacheFromPreviousImage", "agentPoolName"];

/** Checks the options of `ImageBuild.acrTask()`; throws a ValidationError naming the bad one. */
export function validateAcrTaskBuildOptions(options: AcrTaskBuildOptions): void {
  const owner = "ImageBuild.acrTask";
  if (typeof options !== "object" || options === null) invalid(owner, "options", options, "not an options object", "{ timeoutSeconds?, cpu?, cacheFromPreviousImage?, agentPoolName? }");
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) invalid(owner, key, (options as Record<string, unknown>)[key], "not an option of the ACR build", OPTION_NAMES.join(", "));
  }
  const { timeoutSeconds, cpu, cacheFromPreviousImage, agentPoolName } = options;
  if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < MIN_TIMEOUT_SECONDS || timeoutSeconds > MAX_TIMEOUT_SECONDS)) {
    invalid(owner, "timeoutSeconds", timeoutSeconds, "out of range", `a whole number of seconds from ${MIN_TIMEOUT_SECONDS} (5 minutes) to ${MAX_TIMEOUT_SECONDS} (8 hours)`);
  }
  if (cpu !== undefined) {
    if (agentPoolName !== undefined) invalid(owner, "cpu", cpu, "a dedicated agent pool's tier decides the CPU count", "leave cpu unset with agentPoolName");
    if (!HOSTED_CPU_VALUES.includes(cpu)) invalid(owner, "cpu", cpu, "not a CPU count of the Azure-hosted build agent", HOSTED_CPU_VALUES.join(", "));
  }
  if (cacheFromPreviousImage !== undefined && typeof cacheFromPreviousImage !== "boolean") {
    invalid(owner, "cacheFromPreviousImage", cacheFromPreviousImage, "not a boolean", "true or false");
  }
  if (agentPoolName !== undefined && (typeof agentPoolName !== "string" || !/^[A-Za-z0-9-]{3,20}$/.test(agentPoolName))) {
    invalid(owner, "agentPoolName", agentPoolName, "not an ACR agent pool name", "3-20 letters, digits and hyphens (the name of an azurerm_container_registry_agent_pool of the registry)");
  }
}

/**
 * `ImageBuild.acrTask()`: builds and pushes the scoring image in Azure with an ACR task, so the
 * machine that runs `terraform apply` needs no Docker engine and nothing holds a secret.
 *
 * Synth writes the build context, straight from the hashed inputs, as a deterministic archive into
 * the stack's assets; Terraform
 * uploads it (Azure AD auth) as a blob named after the fingerprint into a private container of a
 * build storage account with shared keys off; a task with its own user-assigned identity (Storage
 * Blob Data Reader on that container, AcrPush on the registry, nothing else) downloads, builds
 * and pushes `<repository>:<fingerprint>`; a run-now resource runs it once per fingerprint.
 */
export class AcrTaskBuild implements IImageBuild {
  private readonly timeoutSeconds: number;
  private readonly cpu?: number;
  private readonly layerCache: boolean;
  private readonly agentPoolName?: string;

  constructor(options: AcrTaskBuildOptions = {}) {
    validateAcrTaskBuildOptions(options);
    this.timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    this.agentPoolName = options.agentPoolName;
    this.cpu = this.agentPoolName === undefined ? (options.cpu ?? DEFAULT_CPU) : undefined;
    this.layerCache = options.cacheFromPreviousImage ?? false;
  }

  public bind(scope: Construct, target: ImageBuildTarget): ImageBuildBinding {
    const { registry, repository, context } = target;
    const tag = context.prepare().fingerprint;
    for (const [name, value] of Object.entries(target.buildArgs)) {
      // ACR renders the task YAML as a Go template first.
      if (value.includes("{{") || value.includes("}}")) invalid(target.owner, `build argument ${name}`, value, "ACR task YAML treats {{ and }} as template markers", "values without {{ or }} (rename the entry script or its folder)");
    }
    // Agent pools exist in Premium registries only. A ScoringRegistry (also the one a deployment
    // creates) knows its SKU; an existing registry's is known at apply only.
    const sku = (registry as { sku?: unknown }).sku;
    if (this.agentPoolName !== undefined && sku instanceof RegistrySku && sku !== RegistrySku.PREMIUM) {
      invalid(target.owner, "imageBuild.agentPoolName", this.agentPoolName, `the registry's SKU is ${sku.name}, and agent pools exist in Premium registries only`, "a Premium registry (registrySku: RegistrySku.PREMIUM, or a ScoringRegistry with that sku), or no agentPoolName (the shared ACR agents)");
    }
    // No tags block at all when there are none, like the deployment's other resources.
    const tags = Object.keys(target.tags).length > 0 ? target.tags : undefined;
    const names = deriveNames(target.baseName, target.uniqueSuffix);

    // ---- Where the context goes: a private container of a storage account with shared keys off.
    const storageAccountName = names.storageAccount("bld");
    const blobName = `${tag}.tar.gz`;
    // On a private network the task reaches the closed registry and storage as a trusted Azure
    // service, which Azure grants to a task's system-assigned identity only (FIELD-NOTES §10), and
    // storage only with "selected networks" (a deny-all public endpoint), not with public access off.
    const privateNetwork = target.privateNetwork === true;
    const storage = createSecureStorageAccount(scope, "storage", {
      name: storageAccountName,
      location: target.location,
      resourceGroupName: target.resourceGroupName,
      tags,
      // Archives are rebuilt from the sources at every synth; keeping a version of each replaced
      // (up to GiB-sized) archive would only cost storage. Soft delete still keeps it 7 days.
      blobVersioning: false,
      networkAccess: privateNetwork ? "trustedServices" : undefined,
    });
    const container = new StorageContainer(scope, "contexts", {
      name: CONTEXT_CONTAINER_NAME,
      storageAccountId: storage.id,
      containerAccessType: "private",
    });

    // The deploying principal uploads the archive through Azure AD (storage_use_azuread), so it
    // needs data rights on this container: granted here, to whoever runs the apply.
    const deployer = new DataAzurermClientConfig(scope, "deployer");
    const deployerGrant = new RoleAssignment(scope, "deployer-blob-contributor", {
      scope: container.id,
      roleDefinitionName: BuiltInRole.STORAGE_BLOB_DATA_CONTRIBUTOR,
      principalId: deployer.objectId,
      description: "Upload of the image build context by the principal that runs terraform apply",
    });

    // The archive, hard-linked from the staging root into the stack's assets where the file
    // system allows (no second copy, nothing rewritten while the archive is unchanged).
    const archivePath = context.addArchiveAsset(scope, "context-archive").relativePath;
    const blob = new StorageBlob(scope, "context-blob", {
      name: blobName,
      storageAccountName: storage.name,
      storageContainerName: container.name,
      type: "Block",
      contentType: "application/gzip",
      source: `\${path.module}/${archivePath}`,
      dependsOn: [deployerGrant],
    });

    // ---- The task and its identity: read this container, push to the registry, nothing else.
    const identity = privateNetwork ? undefined : new UserAssignedIdentity(scope, "identity", {
      name: buildIdentityName(names),
      location: target.location,
      resourceGroupName: target.resourceGroupName,
      tags,
    });
    let grants = identity === undefined ? undefined : grantBuildRoles(scope, container.id, registry.id, identity.principalId);

    const yaml = buildTaskYaml({
      storageAccountName,
      containerName: CONTEXT_CONTAINER_NAME,
      blobName,
      repository,
      tag,
      buildArgs: target.buildArgs,
      platform: target.platform,
      stepTimeoutSeconds: this.timeoutSeconds,
      layerCache: this.layerCache,
      systemAssignedIdentity: identity === undefined,
    });
    const [os, architecture] = target.platform.split("/");
    const task = new ContainerRegistryTask(scope, "task", {
      // The fingerprint is part of the name, so a new context is a new task (the name forces
      // replacement) and with it a new run (see below).
      name: taskName(target.baseName, target.uniqueSuffix, tag),
      containerRegistryId: registry.id,
      platform: { os: os === "linux" ? "Linux" : os, architecture },
      identity: identity === undefined ? { type: "SystemAssigned" } : { type: "UserAssigned", identityIds: [identity.id] },
      encodedStep: {
        // A literal: everything known only at apply time comes in through `values`.
        taskContent: Buffer.from(yaml, "utf8").toString("base64"),
        values: identity === undefined ? undefined : { [CLIENT_ID_VALUE]: identity.clientId },
      },
      // The run logs in to its own registry as the task identity only: the default
      // run-scoped credential (full access to the home registry) is switched off. "[system]"
      // names the task's system-assigned identity.
      registryCredential: {
        source: { loginMode: "None" },
        custom: [{ loginServer: registry.loginServer, identity: identity === undefined ? "[system]" : identity.clientId }],
      },
      timeoutInSeconds: this.timeoutSeconds,
      agentSetting: this.cpu === undefined ? undefined : { cpu: this.cpu },
      agentPoolName: this.agentPoolName,
      tags,
    });
    // The system-assigned identity exists once the task does.
    grants ??= grantBuildRoles(scope, container.id, registry.id, task.identity.principalId);
    const [readerGrant, pushGrant] = grants;

    // ---- Run it: once per fingerprint. The run's only argument is the task id, which forces
    // replacement; the task's name holds the fingerprint, so a new context means a new task and a
    // new run, and an unchanged input plans neither. The run's construct id carries the same
    // fingerprint prefix (a literal, never a token), so the configuration itself shows the new
    // run: its address changes with the context. Not `lifecycle.replace_triggered_by`: cdktf
    // renders it in a form Terraform rejects (`"${...}"` in JSON, a quoted address in HCL).
    const run = new ContainerRegistryTaskScheduleRunNow(scope, `run-${tag.slice(0, TASK_NAME_FINGERPRINT_CHARS)}`, {
      containerRegistryTaskId: task.id,
      dependsOn: [blob, readerGrant, pushGrant],
      // The provider waits for the run; give it the task's timeout plus time to queue.
      timeouts: { create: `${Math.ceil(this.timeoutSeconds / 60) + 15}m` },
    });

    const imageReference = `${registry.loginServer}/${repository}:${tag}`;
    // The upload comes from the machine that runs Terraform, through the account's private
    // endpoint: it waits for it.
    const privateEndpoints = privateNetwork
      ? [{ resourceName: storageAccountName, resourceId: storage.id, subresource: "blob" as const, description: `the image build's storage account "${storageAccountName}"`, requiredBy: [blob] }]
      : undefined;
    return {
      repository, tag, imageReference, dependencies: [run], privateEndpoints,
      // Claimed in every network mode: a deployment named `<name>-build` would derive the same name.
      nameClaims: [{ claims: [{ kind: "managed identity", name: buildIdentityName(names) }] }],
      diagnostics: [{ resource: storage, resourceId: storage.id, categories: "storageAccount" }],
    };
  }
}

/**
 * The task identity's two roles: read the context container, push to the registry (registry-wide:
 * registries in azurerm 4.55 have RBAC-only permissions, where AcrPush cannot be scoped to a
 * repository; docs/image-build.md, "How the ACR build works": the trade-off and the alternatives).
 */
function grantBuildRoles(scope: Construct, containerId: string, registryId: string, principalId: string): [RoleAssignment, RoleAssignment] {
  return [
    grantRole(scope, "context-reader", containerId, BuiltInRole.STORAGE_BLOB_DATA_READER, principalId),
    grantRole(scope, "registry-push", registryId, ACR_PUSH, principalId),
  ];
}

/** Characters of the fingerprint in the task name (ACR task names have at most 50). */
const TASK_NAME_FINGERPRINT_CHARS = 12;

/** `build-<base>-<suffix>-<fingerprint prefix>`: at most 6 + 20 + 1 + 8 + 1 + 12 = 48 characters. */
export function taskName(baseName: string, uniqueSuffix: string, fingerprint: string): string {
  return `build-${baseName}-${uniqueSuffix}-${fingerprint.slice(0, TASK_NAME_FINGERPRINT_CHARS)}`;
}
