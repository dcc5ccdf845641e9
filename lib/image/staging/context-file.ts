import { under } from "./under";

/** One file of the build context, as the pipeline passes it from the inputs to the staged folder or archive. */
export interface ContextFile {
  /** Context path (relative posix), e.g. `model/churn/model.joblib`. */
  readonly dest: string;
  readonly size: number;
  /** The input file it is read from (a real path), unless its bytes are in `content` (see sourceOf). */
  readonly source?: string;
  /**
   * Or the input folder it is below, when its real path is that folder's then its context path
   * after the folder's prefix: not kept as a string per file (20,000 of them cost the garbage
   * collector more on a re-synth than making the few needed again).
   */
  readonly from?: { readonly root: string; readonly prefixLength: number };
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

/** The real path `file` is read from. */
export function sourceOf(file: ContextFile): string {
  if (file.source !== undefined) return file.source;
  return under(file.from!.root, file.dest.slice(file.from!.prefixLength));
}
