/**
 * How the scoring image is built and pushed. A build mode is an object the deployment binds
 * (like a trigger): it creates the resources that turn the staged build context into
 * `<registry>/<repository>:<fingerprint>` and says what the function app must wait for.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import { IContainerRegistryRef } from "../../registry/scoring-registry";
import { StagedBuildContext } from "../build-context";
import type { PrivateEndpointNeed } from "../../network/private-endpoint";
import { LocalDockerBuild } from "./local-docker-build";
import { AcrTaskBuild, AcrTaskBuildOptions } from "./acr-task-build";

/** What a build mode sees of the deployment it binds to. */
export interface ImageBuildTarget {
  /** Construct description used in error messages, e.g. `AmlFunctionDeployment "churn"`. */
  readonly owner: string;
  readonly location: string;
  readonly resourceGroupName: string;
  readonly tags: { [key: string]: string };
  /** Base of the deployment's resource names: lowercase letters, digits and hyphens. */
  readonly baseName: string;
  /** Stable 8-hex-digit suffix for globally unique names (derived from the construct path). */
  readonly uniqueSuffix: string;
  /** The registry the image goes to. */
  readonly registry: IContainerRegistryRef;
  /** Repository inside the registry, e.g. `aml/churn`. */
  readonly repository: string;
  /** Name for repository-scoped registry credentials (scope map, token). */
  readonly credentialName: string;
  /** The staged build context; its fingerprint is the image tag. */
  readonly context: StagedBuildContext;
  readonly buildArgs: { readonly [name: string]: string };
  /** Target platform, e.g. `linux/amd64`. */
  readonly platform: string;
  /**
   * True when the deployment is on a private network: what the build creates keeps its public
   * endpoint closed (to all but trusted Azure services) and asks for private endpoints.
   * @default false
   */
  readonly privateNetwork?: boolean;
}

/** What a build mode hands back to the deployment after it bound. */
export interface ImageBuildBinding {
  /** Repository inside the registry (the function app's `image_name`, without host). */
  readonly repository: string;
  /** The tag: the build context's content fingerprint. */
  readonly tag: string;
  /** `<login server>/<repository>:<tag>`. */
  readonly imageReference: string;
  /** The image is in the registry once these exist: the function app depends on them. */
  readonly dependencies: ITerraformDependable[];
  /**
   * Private endpoints for what the build created, created by the deployment on a private network.
   * @default none
   */
  readonly privateEndpoints?: PrivateEndpointNeed[];
}

/** A build mode: see {@link ImageBuild} for the ones this library offers. */
export interface IImageBuild {
  /**
   * True when `bind` reads the context's `directory` (stages the context as a folder, as the
   * local Docker build does): the model's small-files pack is then written while the model is
   * hashed instead of from bytes kept in memory.
   * @default false
   */
  readonly stagesContextFolder?: boolean;
  /** Creates the build-and-push resources under `scope`. Called once. */
  bind(scope: Construct, target: ImageBuildTarget): ImageBuildBinding;
}

/** The build modes this library offers. */
export class ImageBuild {
  /**
   * Build and push in Azure with an ACR task (the default): no Docker engine where
   * `terraform apply` runs, no key, SAS or password anywhere. The staged context is uploaded as a
   * blob through Azure AD and the task's own identity downloads, builds and pushes it; the task
   * runs again only when the context's fingerprint changes.
   */
  public static acrTask(options: AcrTaskBuildOptions = {}): IImageBuild {
    return new AcrTaskBuild(options);
  }

  /**
   * Build with the Docker engine of the machine that runs `terraform apply` (docker provider)
   * and push with a repository-scoped registry token.
   */
  public static localDocker(): IImageBuild {
    return new LocalDockerBuild();
  }

  private constructor() {}
}

/** True when `value` can be bound as a build mode. */
export function isImageBuild(value: unknown): value is IImageBuild {
  return typeof value === "object" && value !== null && typeof (value as IImageBuild).bind === "function";
}
