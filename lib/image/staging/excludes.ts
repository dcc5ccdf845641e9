/**
 * What is left out of every folder copied into the build context, before that folder's own
 * `.dockerignore` applies (so a `!` line there can re-include any of these).
 */

/** Build and editor leftovers: never useful in the image. */
export const DEFAULT_EXCLUDES: readonly string[] = Object.freeze([
  "**/__pycache__",
  "**/*.pyc",
  "**/.git",
  "**/.DS_Store",
  "**/.ipynb_checkpoints",
  "**/node_modules",
  "**/cdktf.out",
  "**/.terraform",
  "**/.venv",
]);

/**
 * Files that hold credentials or Terraform state. An image is readable by everyone who can pull
 * it, so these stay out unless a `.dockerignore` re-includes them with a `!` line. Synth prints
 * which files these rules left out. Terraform state matters twice: `terraform.tfstate(.backup)`
 * holds the registry push-token password, and it changes on every apply, which would rebuild
 * the image each time. Names cannot catch every file a project keeps a secret in, so the files
 * of the entry script's folder are also checked by content (credential-scan.ts).
 */
export const SECRET_EXCLUDES: readonly string[] = Object.freeze([
  // Environment files and generic secret stores.
  "**/.env",
  "**/.env.*",
  "**/secrets.json",
  "**/secrets.yaml",
  "**/secrets.yml",
  "**/credentials",
  "**/credentials.json",
  "**/.netrc",
  "**/_netrc",
  "**/.pgpass",
  "**/.my.cnf",
  "**/.htpasswd",
  "**/.vault-token",
  // SSH, TLS and signing keys (PuTTY's .ppk included).
  "**/.ssh",
  "**/.gnupg",
  "**/id_rsa",
  "**/id_dsa",
  "**/id_ecdsa",
  "**/id_ed25519",
  "**/id_ecdsa_sk",
  "**/id_ed25519_sk",
  "**/*.ppk",
  "**/*.pem",
  "**/*.key",
  "**/*.p8",
  "**/*.p12",
  "**/*.pfx",
  "**/*.jks",
  "**/*.keystore",
  // Azure: the CLI's folder and token caches, SDK auth files, publish profiles (with the
  // deployment password), and Azure Functions' local settings (`AzureWebJobsStorage` with the
  // account key; Core Tools' own .funcignore leaves it out too).
  "**/.azure",
  "**/msal_token_cache.*",
  "**/accessTokens.json",
  "**/service_principal_entries.json",
  "**/azureauth.json",
  "**/*.azureauth",
  "**/*.PublishSettings",
  "**/local.settings.json",
  // Other clouds, Kubernetes, registries and package indexes.
  "**/.aws",
  "**/.s3cfg",
  "**/.config/gcloud",
  "**/application_default_credentials.json",
  "**/.kube/config",
  "**/kubeconfig",
  "**/.docker/config.json",
  "**/.dockercfg",
  "**/.npmrc",
  "**/.pypirc",
  "**/.git-credentials",
  // Terraform: CLI configuration and `terraform login` tokens, state (and its backups),
  // variable files.
  "**/.terraformrc",
  "**/terraform.rc",
  "**/.terraform.d",
  "**/credentials.tfrc.json",
  "**/*.tfstate",
  "**/*.tfstate.*",
  "**/*.tfvars",
  "**/*.tfvars.json",
]);
