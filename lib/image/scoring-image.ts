import { Construct } from "constructs";
import { AssetType, TerraformAsset } from "cdktf";
import { ContainerRegistryScopeMap } from "@cdktf/provider-azurerm/lib/container-registry-scope-map";
import { ContainerRegistryToken } from "@cdktf/provider-azurerm/lib/container-registry-token";
import { ContainerRegistryTokenPassword } from "@cdktf/provider-azurerm/lib/container-registry-token-password";
import { Image } from "@cdktf/provider-docker/lib/image";
import { RegistryImage } from "@cdktf/provider-docker/lib/registry-image";
import { IContainerRegistryRef } from "../registry/scoring-registry";
import { StagedBuildContext } from "./build-context";

/** Props of {@link ScoringImage}. */
export interface ScoringImageProps {
  readonly registry: IContainerRegistryRef;
  /** Repository inside the registry, e.g. `aml/churn`. */
  readonly repository: string;
  /** Name of the push-only scope map and token for this repository. */
  readonly pushCredentialName: string;
  /** The staged build context; its fingerprint is the image tag. */
  readonly context: StagedBuildContext;
  readonly buildArgs: { [name: string]: string };
  readonly platform: string;
}

/**
 * Builds the scoring image from the staged context and pushes it to the registry.
 *
 * The tag is the content fingerprint, and the fingerprint is the trigger of both docker
 * resources: the docker provider does not look inside the build context, so without it an
 * edited script would never be rebuilt, and an unchanged one must not be. The push uses a token
 * that can write to this one repository only (scope map), never the registry's admin user.
 */
export class ScoringImage extends Construct {
  /** `<login server>/<repository>:<fingerprint>`. */
  public readonly imageReference: string;
  /** The tag: the build context's content fingerprint. */
  public readonly tag: string;
  public readonly repository: string;
  /** The pushed image; the function app depends on it. */
  public readonly pushed: RegistryImage;

  constructor(scope: Construct, id: string, props: ScoringImageProps) {
    super(scope, id);
    const { registry, repository } = props;
    this.repository = repository;
    this.tag = props.context.fingerprint;
    this.imageReference = `${registry.loginServer}/${repository}:${this.tag}`;

    const scopeMap = new ContainerRegistryScopeMap(this, "push-scope", {
      name: props.pushCredentialName,
      containerRegistryName: registry.name,
      resourceGroupName: registry.resourceGroupName,
      description: `Push access to ${repository} only`,
      actions: [
        `repositories/${repository}/content/read`,
        `repositories/${repository}/content/write`,
        `repositories/${repository}/metadata/read`,
      ],
    });
    const token = new ContainerRegistryToken(this, "push-token", {
      name: props.pushCredentialName,
      containerRegistryName: registry.name,
      resourceGroupName: registry.resourceGroupName,
      scopeMapId: scopeMap.id,
      enabled: true,
    });
    // The password lives in Terraform state only (mark your state backend as sensitive);
    // nothing in the synthesized configuration holds it.
    const password = new ContainerRegistryTokenPassword(this, "push-password", {
      containerRegistryTokenId: token.id,
      password1: {},
    });

    const asset = new TerraformAsset(this, "context", {
      path: props.context.directory,
      type: AssetType.DIRECTORY,
      assetHash: props.context.fingerprint,
    });
    const triggers = { fingerprint: props.context.fingerprint };

    const image = new Image(this, "image", {
      name: this.imageReference,
      keepLocally: true,
      triggers,
      buildAttribute: {
        // Absolute at apply time: relative paths would resolve against Terraform's working dir.
        context: `\${abspath(path.module)}/${asset.path}`,
        dockerfile: "Dockerfile",
        platform: props.platform,
        buildArgs: props.buildArgs,
      },
    });
    this.pushed = new RegistryImage(this, "push", {
      name: image.name,
      keepRemotely: true,
      triggers,
      authConfig: {
        address: registry.loginServer,
        username: token.name,
        password: password.password1.value,
      },
    });
  }
}
