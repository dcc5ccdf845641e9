/**
 * A parsed blob path: its own file, because the parser (blob-path.ts) and the output-name
 * check (blob-output-names.ts) both use it and the parser calls the check.
 */
/** One piece of a parsed pattern: literal text or a `{token}`. */
export type BlobPathSegment = { readonly kind: "text"; readonly text: string } | { readonly kind: "token"; readonly name: string };

/** A parsed `container/pattern` path. */
export interface BlobPath {
  /** The path as given. */
  readonly path: string;
  /** Container name (validated with the blob container naming rule). */
  readonly container: string;
  /** Blob name pattern below the container (never empty). */
  readonly pattern: string;
  /** The pattern as literal text and tokens, in order. */
  readonly segments: readonly BlobPathSegment[];
  /** Token names in the order they appear. */
  readonly tokens: readonly string[];
}
