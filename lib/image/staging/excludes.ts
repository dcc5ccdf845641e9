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
 * the image each time.
 */
export const SECRET_EXCLUDES: readonly string[] = Object.freeze([
  // Environment files and generic secret stores.
  "**/.env",
  "**/.env.*",
  "**/secrets.json",
  "**/credentials",
  "**/.netrc",
  "**/.pgpass",
  "**/.vault-token",
  // SSH, TLS and signing keys.
  "**/.ssh",
  "**/.gnupg",
  "**/id_rsa",
  "**/id_dsa",
  "**/id_ecdsa",
  "**/id_ed25519",
  "**/id_ecdsa_sk",
  "**/id_ed25519_sk",
  "**/*.pem",
  "**/*.key",
  "**/*.p12",
  "**/*.pfx",
  "**/*.jks",
  // Cloud and registry credentials.
  "**/.aws",
  "**/.azure",
  "**/.config/gcloud",
  "**/.kube/config",
  "**/.docker/config.json",
  "**/.npmrc",
  "**/.pypirc",
  "**/.git-credentials",
  // Terraform state (and its backups) and variable files.
  "**/*.tfstate",
  "**/*.tfstate.*",
  "**/*.tfvars",
  "**/*.tfvars.json",
]);
