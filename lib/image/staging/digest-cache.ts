/**
 * sha256 of file contents, cached by file identity (device, inode, size, mtime, ctime in ns) so
 * that an unchanged model is not read again on the next synth. A file is only cached when it had
 * not changed for SETTLE_NS before hashing began (a change right after hashing could otherwise
 * keep the same timestamps); files changed more recently are re-hashed every time.
 *
 * The cache file lives in the private staging root (0700, owner checked), so only this user can
 * change it. It is written atomically (temp file + rename) and only when something new was hashed.
 *
 * Layout: a format line, then one `<identityKey> <sha256>` line per file, the files of the latest
 * synth first and in the order that synth asked for them. A synth asks in the same order again
 * (sorted context paths), so a lookup is mostly a comparison with the next line: the cache of
 * 20,000 files is one string, neither parsed into 40,000 strings nor put into a map, and the
 * garbage collector has nothing of it to copy. A key not found there is searched for in the whole
 * text (the lookups continue from where it is); after a few keys found nowhere (a new or changed
 * model), the text is put into a map once.
 *
 * Files whose content is also checked for credentials (credential-scan.ts: the entry script's
 * folder) are cached under their identity with SCANNED_PREFIX in front: such a line means "this
 * content was read and held none", so an unchanged file is neither read nor scanned again, and a
 * file hashed before without the scan (as part of a model, or by an older version) is read once
 * more. A file with a finding is never cached: it is read and reported on every synth.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { identityKey, identityKeyOfOpenFile, inodeInIdentityKey, nowNs, parseIdentityKey, settledBefore, sizeInIdentityKey } from "./file-identity";
import { KeptBytes } from "./kept-bytes";
import { CredentialFinding } from "./credential-scan";

const FORMAT = "aml-function-deployment/digest-cache/v3";
/** Upper bound on cached files; the ones used by the latest synth are kept first. */
const MAX_ENTRIES = 500_000;
/** Keys searched for in the whole text without success before the text is put into a map. */
const MAX_FAILED_SEARCHES = 8;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/**
 * In front of the identity of a file cached with its credential scan (see the top); the version
 * goes up when the scan's rules change, so every file is scanned again under the new rules.
 */
const SCANNED_PREFIX = "scan1/";
const SPACE = 0x20;
const NEWLINE = 0x0a;

/** One read buffer for all files: allocating 1 MiB per file costs more than hashing 4 KiB. */
const buffer = Buffer.allocUnsafe(1 << 20);

/**
 * How many bytes to ask for next, having read `total` of a file whose size was seen as `size`:
 * up to one byte past that size (getting it means the file grew), then, once past it, whole
 * buffers (a file growing while it is read must not be read a byte per call).
 */
export function nextReadSize(total: number, size: number, bufferLength: number): number {
  return total <= size ? Math.min(bufferLength, size - total + 1) : bufferLength;
}

/**
 * sha256 of a file's content, read in 1 MiB chunks, and the identity (identityKey) the open file
 * had after it was read; `whole` is a view of its bytes when one read call got them all (valid until
 * the next call). `size` is the size the caller saw: reading stops at a short read that
 * ends exactly there (asking for a byte more than that saves the call that would find the end of
 * each small file); otherwise at the end of the file. A file of another size shows in `identity`.
 */
export function hashFileContent(file: string, size = Number.MAX_SAFE_INTEGER): { sha256: string; identity: string; whole?: Buffer } {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    let total = 0;
    let reads = 0;
    for (;;) {
      const asked = nextReadSize(total, size, buffer.length);
      const read = fs.readSync(fd, buffer, 0, asked, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      total += read;
      reads++;
      if (read < asked && total === size) break;
    }
    const identity = identityKeyOfOpenFile(fd);
    // A file read in one call is still in the buffer (until the next file is hashed).
    return { sha256: hash.digest("hex"), identity, whole: reads <= 1 ? buffer.subarray(0, total) : undefined };
  } finally {
    fs.closeSync(fd);
  }
}

/** Every well-formed `<key> <sha256>` line of a cache text, as a map (damaged lines are skipped). */
function parseLines(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    const sha256 = line.slice(space + 1);
    if (SHA256_HEX.test(sha256) && !entries.has(line.slice(0, space))) entries.set(line.slice(0, space), sha256);
  }
  return entries;
}

export interface DigestCacheOptions {
  /**
   * The clock that decides whether a file has settled (tests move it forward instead of waiting).
   * @default the wall clock
   */
  readonly now?: () => bigint;
}

export class DigestCache {
  /** The loaded cache: "\n" + its lines (each line starts after a "\n"), or "" without one. */
  private readonly text: string = "";
  /** Where the next expected line starts in `text`. */
  private cursor = 0;
  /** The loaded lines as a map, once lookups stopped following the text. */
  private map?: Map<string, string>;
  private failedSearches = 0;
  /**
   * Every cacheable answer, in the order asked (saved first): the offset in `text` of the line it
   * came from, or the identity key of a file answered from `hashed` or `map`. Offsets, not the
   * strings: 20,000 retained strings cost the garbage collector more than the lookups themselves,
   * and they are only needed when the cache is saved.
   */
  private readonly answers: Array<number | string> = [];
  /** sha256 by identity key, of the files this synth hashed. */
  private readonly hashed = new Map<string, string>();
  private readonly now: () => bigint;
  private dirty = false;
  /** How many files were read (for tests and the bench). */
  public hashedFiles = 0;

  /** @param file the cache file; undefined = no persistent cache (every file is hashed). */
  constructor(private readonly file?: string, options: DigestCacheOptions = {}) {
    this.now = options.now ?? nowNs;
    if (file === undefined) return;
    let content: string;
    try {
      content = fs.readFileSync(file, "latin1");
    } catch {
      // Missing or unreadable: start empty.
      return;
    }
    // A damaged cache is only a cache: another format is ignored, a damaged line never used.
    if (content.startsWith(`${FORMAT}\n`)) {
      this.text = content.slice(FORMAT.length);
      this.cursor = 1;
    }
  }

  /** The sha256 on the line at `at` when that line is `key`'s and well formed. */
  private lineAt(at: number, key: string): string | undefined {
    const text = this.text;
    if (!text.startsWith(key, at) || text.charCodeAt(at + key.length) !== SPACE || text.charCodeAt(at + key.length + 65) !== NEWLINE) return undefined;
    const sha256 = text.slice(at + key.length + 1, at + key.length + 65);
    if (!SHA256_HEX.test(sha256)) return undefined;
    this.cursor = at + key.length + 66;
    this.answers.push(at);
    return sha256;
  }

  /** The cached sha256 of the file with identity `key`, if any. */
  private lookup(key: string): string | undefined {
    if (this.text === "") return undefined;
    // The next line, when it is this key's: the usual case of an unchanged re-synth.
    const next = this.lineAt(this.cursor, key);
    if (next !== undefined) return next;
    if (this.map !== undefined) return this.answeredFromMap(key);
    if (this.failedSearches < MAX_FAILED_SEARCHES) {
      // Found elsewhere: lookups continue from there (the next keys are likely the next lines).
      const line = this.text.indexOf(`\n${key} `);
      const found = line >= 0 ? this.lineAt(line + 1, key) : undefined;
      if (found === undefined) this.failedSearches++;
      return found;
    }
    this.map = parseLines(this.text);
    return this.answeredFromMap(key);
  }

  private answeredFromMap(key: string): string | undefined {
    const sha256 = this.map!.get(key);
    if (sha256 !== undefined) this.answers.push(key);
    return sha256;
  }

  /**
   * The sha256 of `file` and its identity (an identityKey string), from the cache when a file
   * with this exact identity was hashed before. When the file is read, its bytes go to `keep`
   * (if it takes them) and come back as `content`: exactly the bytes hashed, of the file with
   * identity `id`. `trusted` is true when `sha256` is known to be the digest of the file with
   * identity `id` (from the cache, or read unchanged and settled: what the cache keeps).
   */
  public digest(file: string, keep?: KeptBytes): { sha256: string; id: string; content?: Buffer; trusted: boolean } {
    const { sha256, id, whole, trusted } = this.digestOnce(file);
    return { sha256, id, content: whole !== undefined ? keep?.keep(whole) : undefined, trusted };
  }

  /**
   * As `digest`, and the content is checked by `scan` in the same read (files read in one call:
   * up to 1 MiB). Answered from the cache only for a file scanned before without a finding; a
   * file with a `finding` is not cached (see the top).
   */
  public digestScanned(file: string, scan: (bytes: Buffer) => CredentialFinding | undefined, keep?: KeptBytes): { sha256: string; id: string; content?: Buffer; trusted: boolean; finding?: CredentialFinding } {
    const { sha256, id, whole, trusted, finding } = this.digestOnce(file, undefined, scan);
    return { sha256, id, content: whole !== undefined ? keep?.keep(whole) : undefined, trusted, finding };
  }

  /**
   * As `digest`, but the bytes read are not kept: `whole` is a view of them (when the file was read,
   * unchanged, in one call), valid until the next call. `beforeRead` is called with the file and its
   * identity when it is about to be read (not when its digest is known).
   */
  public digestOnce(file: string, beforeRead?: (file: string, id: string) => void, scan?: (bytes: Buffer) => CredentialFinding | undefined): { sha256: string; id: string; whole?: Buffer; trusted: boolean; finding?: CredentialFinding } {
    const id = identityKey(file);
    const key = scan === undefined ? id : `${SCANNED_PREFIX}${id}`;
    const cached = this.lookup(key);
    if (cached !== undefined) return { sha256: cached, id, trusted: true };
    const hashed = this.hashed.get(key);
    if (hashed !== undefined) return { sha256: hashed, id, trusted: true };
    // About to be read: e.g. start its copy on another thread (staging/background-copy.ts).
    beforeRead?.(file, id);
    const started = this.now();
    const { sha256, identity, whole } = hashFileContent(file, sizeInIdentityKey(id));
    this.hashedFiles++;
    // The file read must be the one whose identity was looked up, unchanged.
    const unchanged = identity === id;
    // Scanned in the bytes just read (a changed file fails the synth when it is staged or archived).
    const finding = unchanged && whole !== undefined ? scan?.(whole) : undefined;
    // Cache only what did not change while (or shortly before) it was read.
    const trusted = unchanged && settledBefore(parseIdentityKey(id), started);
    if (trusted && finding === undefined) {
      this.hashed.set(key, sha256);
      this.answers.push(key);
      this.dirty = true;
    }
    return { sha256, id, whole: unchanged ? whole : undefined, trusted, finding };
  }

  /** Writes the cache when something new was hashed. */
  public save(): void {
    if (this.file === undefined || !this.dirty) return;
    const lines: string[] = [FORMAT];
    const saved = new Set<string>();
    const current = new Set<string>();
    for (const answer of this.answers) {
      let key: string;
      let sha256: string;
      if (typeof answer === "number") {
        key = this.text.slice(answer, this.text.indexOf(" ", answer));
        sha256 = this.text.slice(answer + key.length + 1, answer + key.length + 65);
      } else {
        key = answer;
        sha256 = this.hashed.get(key) ?? this.map!.get(key)!;
      }
      if (saved.has(key)) continue;
      lines.push(`${key} ${sha256}`);
      saved.add(key);
      current.add(inodeInIdentityKey(key));
    }
    // Then older entries, except earlier identities of the files just used (they changed).
    for (const [key, sha256] of this.map ?? parseLines(this.text)) {
      if (lines.length > MAX_ENTRIES) break;
      if (!saved.has(key) && !current.has(inodeInIdentityKey(key))) lines.push(`${key} ${sha256}`);
    }
    const temp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    fs.writeFileSync(temp, `${lines.join("\n")}\n`, { mode: 0o600 });
    fs.renameSync(temp, this.file);
    this.dirty = false;
  }
}
