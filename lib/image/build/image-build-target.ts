/**
 * What a build mode sees of the deployment it binds to, and what it hands back. A build mode is
 * an object the deployment binds (like a trigger): it creates the resources that turn the staged
 * build context into `<registry>/<repository>:<fingerprint>` and says what the function app must
 * wait for.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import type { DeploymentContext } from "../../deployment/deployment-context";
import type { DeclaredNeeds } from "../../deployment/declared-needs";
import type { IContainerRegistryRef } from "../../registry/scoring-registry";
import type { StagedBuildContext } from "../build-context";

/** What a build mode sees of the deployment it binds to: the deployment, and what to build. */
export interface ImageBuildTarget extends DeploymentContext {
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
}

/** What a build mode hands back to the deployment after it bound: the image, and its needs. */
export interface ImageBuildBinding extends DeclaredNeeds {
  /** Repository inside the registry (the function app's `image_name`, without host). */
  readonly repository: string;
  /** The tag: the build context's content fingerprint. */
  readonly tag: string;
  /** `<login server>/<repository>:<tag>`. */
  readonly imageReference: string;
  /** The image is in the registry once these exist: the function app depends on them. */
  readonly dependencies: ITerraformDependable[];
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
