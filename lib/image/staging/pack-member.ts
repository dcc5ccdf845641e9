/**
 * One file of the model's small-files pack (small-files-pack.ts). A type of its own file because
 * the public ArchiveInput names it: its declaration must not pull in Node's Buffer (consumers
 * compile without Node's types).
 */
export interface PackMember {
  /** Path in the pack (below the model folder), e.g. `churn/model.joblib`. */
  readonly path: string;
  readonly size: number;
  /** The input file with the identity it had when hashed, or its bytes kept from hashing. */
  readonly input: { readonly path: string; readonly identity: string } | { readonly content: Uint8Array };
}
