/** One file of the build context, as the pipeline passes it from the inputs to the staged folder or archive. */
export interface ContextFile {
  /** Context path (relative posix), e.g. `model/churn/model.joblib`. */
  readonly dest: string;
  readonly size: number;
  /** The input file it is read from (a real path), unless its bytes are in `content`. */
  readonly source?: string;
  /** The identity `source` had when it was hashed: it must still be that file when it is read again. */
  readonly id?: string;
  /** Bytes made in memory (generated files). */
  readonly content?: Buffer;
}

/** The model's small files, staged as one tar (small-files-pack.ts). */
export interface SmallFilesPack {
  /** SMALL_FILES_PACK. */
  readonly dest: string;
  /** Sorted by dest, each below `model/`. */
  readonly pack: readonly ContextFile[];
  /** The pack, written while the files were hashed (small-files-pack.ts), and its identity then. */
  readonly written?: { readonly file: string; readonly identity: string };
}

/** One file of the staged context. */
export type StagedFile = ContextFile | SmallFilesPack;
