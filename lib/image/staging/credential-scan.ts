/**
 * Finds credentials by content in the files of the entry script's folder, whatever their names:
 * the name rules (excludes.ts) cannot know every file a project keeps a secret in (a
 * `settings.json` holding a storage connection string, a key saved as `deploy.txt`).
 *
 * Only the entry script's folder is scanned. It is where projects keep their own configuration
 * and tooling files; the model folder holds artefacts, often tens of thousands of files, and a
 * scan as fast as this one costs about as much as hashing them again (measured: 20,000 files of
 * 4 KiB). Only files of up to SCAN_MAX_BYTES are scanned: the bytes the digest read already
 * holds (one read call), so scanning never reads a file again; a bigger file is not a
 * configuration file.
 *
 * Each marker needs the secret itself after it (e.g. 20 or more key characters after
 * `AccountKey=`), so code that parses connection strings, documentation with `...` placeholders
 * and `${ENV}` references are not findings. Azurite's published development key is not a
 * credential.
 */

/** Files up to this size are scanned (the read that hashes them gets them in one call). */
export const SCAN_MAX_BYTES = 1 << 20;

/**
 * The version of these rules, in the key of the manifest of each scanned input: when the rules
 * change it goes up, so every file is scanned again under the new rules.
 */
export const SCAN_VERSION = "scan1";

/** What a file holds that looks like a credential (never the credential itself). */
export interface CredentialFinding {
  /** What it looks like, e.g. "an Azure Storage account key". */
  readonly what: string;
  /** The text that gave it away, e.g. "AccountKey=". */
  readonly marker: string;
}

interface Marker extends CredentialFinding {
  /** Matches the marker followed by the credential (global, case as the format allows). */
  readonly pattern: RegExp;
  /** True for a match that is a published, non-secret value. */
  readonly harmless?: (match: string) => boolean;
}

/** Azurite's (and the Storage Emulator's) well-known account key, published in Microsoft's docs. */
const DEVELOPMENT_STORAGE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** Whitespace or its JSON escape between the lines of a key. */
const BREAK = "(?:\\s|\\\\r|\\\\n)+";

const MARKERS: readonly Marker[] = [
  {
    what: "an Azure Storage account key (as in a connection string or Functions' local.settings.json)",
    marker: "AccountKey=",
    pattern: /AccountKey=[A-Za-z0-9+/]{20,}/gi,
    // The match stops before the key's base64 padding.
    harmless: (m) => m.slice("AccountKey=".length) === DEVELOPMENT_STORAGE_KEY.replace(/=+$/, ""),
  },
  { what: "an Azure shared access key (Service Bus, Event Hubs, IoT Hub or Relay connection string)", marker: "SharedAccessKey=", pattern: /SharedAccessKey=[A-Za-z0-9+/]{20,}/gi },
  { what: "an Azure shared access signature", marker: "sig=", pattern: /(?:[?&;\s]|SharedAccessSignature=)sig=[A-Za-z0-9%+/]{40,}/gi },
  { what: "an Azure publish profile password", marker: "userPWD=", pattern: /userPWD="[^"\s]{8,}"/g },
  { what: "a Microsoft Entra application client secret", marker: "Q~", pattern: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g },
  { what: "a private key", marker: "-----BEGIN PRIVATE KEY-----", pattern: new RegExp(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----${BREAK}(?:[A-Za-z-]+: [^\\r\\n\\\\]*${BREAK})*[A-Za-z0-9+/]{40}`, "g") },
  { what: "a PuTTY private key", marker: "PuTTY-User-Key-File-", pattern: /PuTTY-User-Key-File-[0-9]+: /g },
  { what: "an AWS secret access key", marker: "aws_secret_access_key", pattern: /aws_secret_access_key["']?\s*[=:]\s*["']?[A-Za-z0-9/+]{40}/gi },
  { what: "a Kubernetes client key", marker: "client-key-data:", pattern: /client-key-data:\s*[A-Za-z0-9+/]{40,}/g },
  { what: "a Terraform Cloud / Enterprise API token", marker: ".atlasv1.", pattern: /[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}/g },
  { what: "an npm registry token", marker: "_authToken=", pattern: /_authToken=[A-Za-z0-9_.-]{20,}/g },
  { what: "a GitHub token", marker: "ghp_", pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{80,})\b/g },
];

/**
 * The first credential `bytes` (a file's content) looks like it holds, or undefined. Bytes are
 * read as Latin-1: every marker is ASCII, and UTF-8 text around it does not matter.
 */
export function findCredential(bytes: Uint8Array): CredentialFinding | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  for (const m of MARKERS) {
    m.pattern.lastIndex = 0;
    for (const match of text.matchAll(m.pattern)) {
      if (m.harmless === undefined || !m.harmless(match[0])) return { what: m.what, marker: m.marker };
    }
  }
  return undefined;
}
