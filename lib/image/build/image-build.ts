/** The build modes this library offers (their contract: image-build-target.ts). */
import { AcrTaskBuild, AcrTaskBuildOptions } from "./acr-task-build";
import type { IImageBuild } from "./image-build-target";
import { LocalDockerBuild } from "./local-docker-build";

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
