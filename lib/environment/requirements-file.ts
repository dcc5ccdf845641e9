/**
 * requirements.txt files: a user's file read into requirement lines (comments, blank lines and
 * `\` continuations handled, `--hash` options kept and checked), and the lines written back as
 * the image's file. Same input gives the same bytes; the user's order is kept.
 */
import { invalid } from "../errors";
import { checkRequirements, ENVIRONMENT_PROP, LabelledRequirement } from "./requirement-line";

/** Splits `--hash=...` options off a requirements-file line. */
function splitHashes(line: string): { requirement: string; hashes: string[] } | undefined {
  const m = /^(.*?)((?:\s+--hash[=\s]\S+)+)\s*$/.exec(line);
  if (m === null) return { requirement: line, hashes: [] };
  const hashes = m[2].trim().split(/\s+(?=--hash)/).map((h) => h.replace(/^--hash\s+/, "--hash="));
  if (!hashes.every((h) => /^--hash=[a-z0-9]+:[A-Fa-f0-9]+$/.test(h))) return undefined;
  return { requirement: m[1], hashes };
}

/** The image's requirements.txt: one requirement per line with a trailing newline; empty for none. */
export function renderRequirementsTxt(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Parses requirements.txt text into normalized lines (comments, blanks, continuations handled). */
export function parseRequirementsText(owner: string, where: string, text: string): string[] {
  const logical: Array<{ line: number; text: string }> = [];
  let pending = "";
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (pending === "") start = index + 1;
    if (raw.endsWith("\\")) {
      pending += `${raw.slice(0, -1)} `;
      return;
    }
    logical.push({ line: start, text: pending + raw });
    pending = "";
  });
  if (pending !== "") logical.push({ line: start, text: pending });

  const out: string[] = [];
  const items: LabelledRequirement[] = [];
  const badHashes: string[] = [];
  for (const entry of logical) {
    const stripped = entry.text.replace(/(^|\s)#.*$/, "").trim().replace(/\s+/g, " ");
    if (stripped === "") continue;
    const split = splitHashes(stripped);
    if (split === undefined) {
      badHashes.push(`line ${entry.line}`);
      continue;
    }
    items.push({ label: `line ${entry.line}`, text: split.requirement });
    out.push([split.requirement.trim(), ...split.hashes].join(" "));
  }
  if (badHashes.length > 0) invalid(owner, ENVIRONMENT_PROP, where, `malformed --hash option on ${badHashes.join(", ")}`, "--hash=<algorithm>:<hex digest>");
  checkRequirements(owner, where, items);
  return out;
}
