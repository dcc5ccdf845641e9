/**
 * What a build mode sees of the deployment it binds to, and what it hands back. A build mode is
 * an object the deployment binds (like a trigger): it creates the resources that turn the build
 * context into `<registry>/<repository>:<fingerprint>` and says what the function app must wait
 * for. It asks the context for the form it builds from: a staged folder or an archive, each put
 * into the stack's assets.
 */
import { Construct } from "constructs";
import { ITerraformDependable } from "cdktf";
import type { DeploymentContext } from "../../deployment/deployment-context";
import type { DeclaredNeeds } from "../../deployment/declared-needs";
import type { IContainerRegistryRef } from "../../registry/scoring-registry";

/**
 * The scoring image's build context. Nothing is read until a build mode asks: it is walked and
 * hashed once, by whichever method is called first.
 */
export interface BuildContext {
  /** Walks and hashes the context: its fingerprint and files. */
  prepare(): PreparedContext;
  /**
   * Stages the context as a folder named by its fingerprint (or reuses the one staged before,
   * once it verifies) and adds it to the stack's assets under `scope` as `id`. Called before
   * anything else, it copies big model files while they are hashed.
   */
  addFolderAsset(scope: Construct, id: string): ContextAsset;
  /**
   * Writes the context as one deterministic `.tar.gz` named by its fingerprint (or reuses the one
   * written before, once it verifies) and adds it to the stack's assets under `scope` as `id`.
   */
  addArchiveAsset(scope: Construct, id: string): ContextAsset;
}

/** The build context, walked and hashed. */
export interface PreparedContext {
  /** Content fingerprint, 64 hex digits: the image tag. */
  readonly fingerprint: string;
  /** Sorted relative posix paths of every file of the context (the model's small files are in `model-small-files.tar`). */
  readonly files: readonly string[];
}

/** The build context in the stack's assets. */
export interface ContextAsset {
  /** Content fingerprint, 64 hex digits: the image tag. */
  readonly fingerprint: string;
  /** Path of the asset relative to the stack folder (`${path.module}/` at apply time). */
  readonly relativePath: string;
}

/** What a build mode sees of the deployment it binds to: the deployment, and what to build. */
export interface ImageBuildTarget extends DeploymentContext {
  /** The registry the image goes to. */
  readonly registry: IContainerRegistryRef;
  /** Repository inside the registry, e.g. `aml/churn`. */
  readonly repository: string;
  /** Name for repository-scoped registry credentials (scope map, token). */
  readonly credentialName: string;
  /** The build context; its fingerprint is the image tag. */
  readonly context: BuildContext;
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
   * Creates the build-and-push resources under `scope`, asking the context for the form it
   * builds from (ImageBuildTarget.context). Called once.
   */
  bind(scope: Construct, target: ImageBuildTarget): ImageBuildBinding;
}
