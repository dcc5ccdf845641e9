/** The shape of a synthesized Terraform JSON configuration that the hand-off code reads. */
/** The parts of a Terraform JSON configuration the stack README and its deployer section describe. */
export interface TerraformConfig {
  readonly terraform?: {
    readonly required_providers?: Record<string, { readonly source?: string; readonly version?: string }>;
    readonly backend?: Record<string, Record<string, unknown>>;
  };
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly variable?: Record<string, { readonly type?: string; readonly description?: string; readonly default?: unknown }>;
  readonly output?: Record<string, { readonly description?: string; readonly sensitive?: boolean }>;
}
