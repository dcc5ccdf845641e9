/**
 * The ACR multi-step task (task YAML v1.1.0) that builds the scoring image in Azure without any
 * secret: the task's user-assigned identity signs in, downloads the context archive with Azure AD
 * auth, and the run builds and pushes `<registry>/<repository>:<fingerprint>`.
 *
 * How ACR runs the steps (Azure/acr-builder): each `cmd` step is `docker run <image> <args>`
 * through `/bin/sh -c`, with the run's shared volume mounted at `/workspace` (the working
 * directory of every step); `build` and `push` steps use the run's registry credentials, which
 * the task maps to its identity (registry_credential.custom). Values that vary per deployment but
 * are only known at apply time (the identity's client id) come from the task's `values`
 * (`{{.Values.<name>}}`), so the YAML itself is a literal and tests can parse it.
 */
import { stringify } from "yaml";

/**
 * The Azure CLI image of the download step, pinned so a run is reproducible. 2.67.0 accepts
 * `az login --identity --username <client id>` (later versions also take `--client-id`).
 */
export const AZURE_CLI_IMAGE = "mcr.microsoft.com/azure-cli:2.67.0";

/** Name of the task value that carries the identity's client id. */
export const CLIENT_ID_VALUE = "taskIdentityClientId";

/** Where the archive is unpacked inside the run's shared `/workspace` volume. */
export const CONTEXT_DIR = "context";

export interface BuildTaskSpec {
  /** Storage account, container and blob of the context archive. */
  readonly storageAccountName: string;
  readonly containerName: string;
  readonly blobName: string;
  /** Repository inside the registry, e.g. `aml/churn`. */
  readonly repository: string;
  /** The image tag: the context's fingerprint. */
  readonly tag: string;
  readonly buildArgs: { readonly [name: string]: string };
  /** e.g. `linux/amd64`. */
  readonly platform: string;
  /** Seconds a step may take (the task timeout; ACR's default step timeout is 600 s). */
  readonly stepTimeoutSeconds: number;
  /** Reuse the layers of the previous image through the stable CACHE_TAG, built with BuildKit. */
  readonly layerCache: boolean;
  /**
   * Sign in as the task's system-assigned identity (no client id to name) instead of its
   * user-assigned one (client id from the task value CLIENT_ID_VALUE).
   * @default false
   */
  readonly systemAssignedIdentity?: boolean;
}

/**
 * Tag that always points at the latest build of the repository when the layer cache is on: the
 * next build reads its layers with `--cache-from` (the image carries BuildKit's inline cache
 * metadata). A stable tag, because each new context is a new task (its name holds the
 * fingerprint), so ACR's own per-task cache (`cache: enabled`, tag `cache_<task>_<step>`) would
 * never be found again; and because the previous image's own tag (the previous fingerprint) is
 * not known at synth, while the task YAML must stay a literal that depends on the inputs only.
 * It costs no right the task lacks (AcrPush) and no storage (it names an image pushed anyway).
 */
export const CACHE_TAG = "buildcache";

/**
 * The build step's environment that makes ACR's builder (Azure/acr-builder) run `docker build`
 * with BuildKit. Without exactly this entry the builder adds `DOCKER_BUILDKIT=0` to the step, and
 * the classic builder neither writes nor reads BuildKit's inline cache: `--cache-from` of the
 * cache image gives no hit and every layer is rebuilt.
 */
export const BUILDKIT_ENV = "DOCKER_BUILDKIT=1";

/** Seconds between retries of the download and push steps: fresh role assignments take a while. */
const RETRY_DELAY_SECONDS = 30;
const DOWNLOAD_RETRIES = 6;
const PUSH_RETRIES = 3;

/** Quotes a word for /bin/sh (single quotes; a single quote becomes '"'"'). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

/** The task YAML, as text. Keys in a fixed order, so the same spec gives the same bytes. */
export function buildTaskYaml(spec: BuildTaskSpec): string {
  const image = `{{.Run.Registry}}/${spec.repository}:${spec.tag}`;
  const archive = "/workspace/context.tar.gz";
  // One shell in the Azure CLI image: sign in as the task's identity (no secret: the identity
  // endpoint of the run), download with Azure AD auth, unpack with Python's tarfile (the CLI
  // images always have Python; `tar` is not in every one of them).
  const system = spec.systemAssignedIdentity === true;
  const script = [
    system ? "az login --identity --allow-no-subscriptions --output none" : `az login --identity --username "$TASK_IDENTITY_CLIENT_ID" --allow-no-subscriptions --output none`,
    `az storage blob download --auth-mode login --account-name ${spec.storageAccountName} --container-name ${spec.containerName} --name ${spec.blobName} --file ${archive} --no-progress --output none`,
    `rm -rf /workspace/${CONTEXT_DIR} && mkdir -p /workspace/${CONTEXT_DIR}`,
    `python3 -m tarfile -e ${archive} /workspace/${CONTEXT_DIR}`,
  ].join(" && ");
  const buildArgs = Object.keys(spec.buildArgs)
    .sort()
    .map((name) => `--build-arg ${shellQuote(`${name}=${spec.buildArgs[name]}`)}`);
  const cacheImage = `{{.Run.Registry}}/${spec.repository}:${CACHE_TAG}`;
  // BuildKit (BUILDKIT_ENV on the step) writes the cache metadata into the image
  // (BUILDKIT_INLINE_CACHE=1) and reuses the layers of the image named by --cache-from; a missing
  // cache image (the first build) is only a warning. The Dockerfile has one stage, so the inline
  // cache (which covers the final stage only) holds every layer.
  const cache = spec.layerCache ? [`-t ${cacheImage}`, `--cache-from ${cacheImage}`, "--build-arg BUILDKIT_INLINE_CACHE=1"] : [];
  const build = [`-t ${image}`, ...cache, `-f ${CONTEXT_DIR}/Dockerfile`, `--platform ${spec.platform}`, ...buildArgs, CONTEXT_DIR].join(" ");

  const task = {
    version: "v1.1.0",
    stepTimeout: spec.stepTimeoutSeconds,
    steps: [
      {
        id: "fetch-context",
        cmd: `${AZURE_CLI_IMAGE} bash -ec ${shellQuote(script)}`,
        ...(system ? {} : { env: [`TASK_IDENTITY_CLIENT_ID={{.Values.${CLIENT_ID_VALUE}}}`] }),
        retries: DOWNLOAD_RETRIES,
        retryDelay: RETRY_DELAY_SECONDS,
      },
      // Without the cache the step keeps ACR's default builder.
      { id: "build", build, ...(spec.layerCache ? { env: [BUILDKIT_ENV] } : {}), when: ["fetch-context"] },
      { id: "push", push: spec.layerCache ? [image, cacheImage] : [image], when: ["build"], retries: PUSH_RETRIES, retryDelay: RETRY_DELAY_SECONDS },
    ],
  };
  return stringify(task, { lineWidth: 0 });
}
