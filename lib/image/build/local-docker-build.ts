import { Construct } from "constructs";
import { ContainerRegistryScopeMap } from "@cdktf/provider-azurerm/lib/container-registry-scope-map";
import { ContainerRegistryToken } from "@cdktf/provider-azurerm/lib/container-registry-token";
import { ContainerRegistryTokenPassword } from "@cdktf/provider-azurerm/lib/container-registry-token-password";
import { Image } from "@cdktf/provider-docker/lib/image";
import { RegistryImage } from "@cdktf/provider-docker/lib/registry-image";
import type { IImageBuild, ImageBuildBinding, ImageBuildTarget } from "./image-build-target";

/**
 * `ImageBuild.localDocker()`: builds the scoring image from the staged context with the Docker
 * engine of the machine that runs `terraform apply`, and pushes it to the registry.
 *
 * The tag is the content fingerprint, and the fingerprint is the trigger of both docker
 * resources: the docker provider does not look inside the build context, so without it an
 * edited script would never be rebuilt, and an unchanged one must not be. The push uses a token
 * that can write to this one repository only (scope map), never the registry's admin user.
 */
export class LocalDockerBuild implements IImageBuild {
  public bind(scope: Construct, target: ImageBuildTarget): ImageBuildBinding {
    const { registry, repository, context } = target;
    // The staged context, hard-linked into the stack's assets (no second copy of the model).
    const asset = context.addFolderAsset(scope, "context");
    const tag = asset.fingerprint;
    const imageReference = `${registry.loginServer}/${repository}:${tag}`;

    const scopeMap = new ContainerRegistryScopeMap(scope, "push-scope", {
      name: target.credentialName,
      containerRegistryName: registry.name,
      resourceGroupName: registry.resourceGroupName,
      description: `Push access to ${repository} only`,
      actions: [
        `repositories/${repository}/content/read`,
        `repositories/${repository}/content/write`,
        `repositories/${repository}/metadata/read`,
      ],
    });
    const token = new ContainerRegistryToken(scope, "push-token", {
      name: target.credentialName,
      containerRegistryName: registry.name,
      resourceGroupName: registry.resourceGroupName,
      scopeMapId: scopeMap.id,
      enabled: true,
    });
    // The password lives in Terraform state only (mark your state backend as sensitive);
    // nothing in the synthesized configuration holds it.
    const password = new ContainerRegistryTokenPassword(scope, "push-password", {
      containerRegistryTokenId: token.id,
      password1: {},
    });

    const triggers = { fingerprint: tag };

    const image = new Image(scope, "image", {
      name: imageReference,
      keepLocally: true,
      triggers,
      buildAttribute: {
        // Absolute at apply time: relative paths would resolve against Terraform's working dir.
        context: `\${abspath(path.module)}/${asset.relativePath}`,
        dockerfile: "Dockerfile",
        platform: target.platform,
        buildArgs: { ...target.buildArgs },
      },
    });
    const pushed = new RegistryImage(scope, "push", {
      name: image.name,
      keepRemotely: true,
      triggers,
      authConfig: {
        address: registry.loginServer,
        username: token.name,
        password: password.password1.value,
      },
    });
    return { repository, tag, imageReference, dependencies: [pushed], providers: ["docker"] };
  }
}
