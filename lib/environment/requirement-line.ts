/**
 * One requirement line of the image's requirements.txt: a PEP 508 requirement (name, extras,
 * version specifiers or `name @ url`, markers). pip options that change where packages come from
 * or pull in other files (`-r`, `-c`, `-e`, `--index-url`, `--extra-index-url`, `-f`,
 * `--trusted-host`, bare paths or URLs, ...) are refused: they cannot be resolved inside the
 * image build, and some (`--trusted-host`, an `http://` index) would turn off TLS checks. A direct
 * reference `name @ url` must be `https://` or `git+https://` and hold no credentials.
 */
import { invalid } from "../errors";

/** The deployment prop every environment error names. */
export const ENVIRONMENT_PROP = "environment";

/** What the errors about requirements say is allowed. */
export const REQUIREMENT_ALLOWED =
  "PEP 508 requirements such as \"numpy\", \"numpy==1.26.4\", \"scikit-learn>=1.3,<1.6\", \"pandas[parquet]~=2.2; python_version>='3.10'\" or \"pkg @ https://host/pkg.whl\" (direct references over https:// only, without credentials; no -r, -c, -e, --index-url, --trusted-host or other pip options)";

const NAME = "[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?";
const EXTRAS = `\\[\\s*(?:${NAME}(?:\\s*,\\s*${NAME})*)?\\s*\\]`;
const VERSION_CLAUSE = "(?:~=|===|==|!=|<=|>=|<|>)\\s*[A-Za-z0-9.*+!_-]+";
const VERSION_SPEC = `${VERSION_CLAUSE}(?:\\s*,\\s*${VERSION_CLAUSE})*`;
const REQUIREMENT_RE = new RegExp(`^(${NAME})\\s*(?:${EXTRAS})?\\s*(?:\\(\\s*${VERSION_SPEC}\\s*\\)|${VERSION_SPEC}|@\\s*(\\S+))?\\s*(?:;(.*))?$`);
const MARKER_VARIABLES = new Set([
  "python_version",
  "python_full_version",
  "os_name",
  "sys_platform",
  "platform_release",
  "platform_system",
  "platform_version",
  "platform_machine",
  "platform_python_implementation",
  "implementation_name",
  "implementation_version",
  "extra",
]);

/** Returns a problem description, or undefined when the marker looks like a PEP 508 marker. */
function markerProblem(marker: string): string | undefined {
  const text = marker.trim();
  if (text === "") return "the environment marker after ';' is empty";
  const token = /\s*(?:('[^']*'|"[^"]*")|(===|==|!=|<=|>=|~=|<|>)|(\(|\))|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let pos = 0;
  let depth = 0;
  while (pos < text.length) {
    token.lastIndex = pos;
    const m = token.exec(text);
    if (m === null) return `the environment marker has unexpected text at ${JSON.stringify(text.slice(pos))}`;
    if (m[3] === "(") depth++;
    if (m[3] === ")" && --depth < 0) return "the environment marker has unbalanced parentheses";
    if (m[4] !== undefined && !["and", "or", "in", "not"].includes(m[4]) && !MARKER_VARIABLES.has(m[4])) {
      return `unknown environment marker variable ${JSON.stringify(m[4])}`;
    }
    pos = token.lastIndex;
    if (/^\s*$/.test(text.slice(pos))) break;
  }
  if (depth !== 0) return "the environment marker has unbalanced parentheses";
  return undefined;
}

/** Returns a problem description, or undefined when `line` is an acceptable requirement. */
export function requirementProblem(line: string): string | undefined {
  const text = line.trim();
  if (text === "") return "the requirement is empty";
  if (text.startsWith("-")) {
    const option = text.split(/[\s=]/)[0];
    return `pip option ${option} cannot be resolved in the image build`;
  }
  if (/^(?:[a-z+]+:\/\/|\.{0,2}\/|[A-Za-z]:\\)/i.test(text) || text.startsWith("git+")) {
    return "a bare path or URL is not a requirement; use \"name @ url\" with a URL reachable from the build";
  }
  const m = REQUIREMENT_RE.exec(text);
  if (m === null) return "it is not a PEP 508 requirement";
  if (m[2] !== undefined) {
    const problem = urlProblem(m[2]);
    if (problem !== undefined) return problem;
  }
  if (m[3] !== undefined) return markerProblem(m[3]);
  return undefined;
}

/**
 * Direct references (`name @ url`) are fetched by pip inside the image build and run as code in
 * the app: only HTTPS (and git over HTTPS) is accepted, so nobody on the network path can swap
 * the package, and no user name or password in the URL, which would be baked into the image.
 */
function urlProblem(url: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== "https" && scheme !== "git+https") {
    return `the direct reference ${JSON.stringify(url)} is not fetched over HTTPS (${scheme === undefined ? "no scheme" : `scheme ${scheme}`}); plain HTTP, file and other schemes can be tampered with or cannot be resolved in the image build`;
  }
  const authority = url.slice(url.indexOf("://") + 3).split(/[/?#]/)[0];
  if (authority.includes("@")) return `the direct reference ${JSON.stringify(url)} holds credentials, which would be baked into the image`;
  return undefined;
}

/** A requirement to check, with where it came from (`line 3`, `package 2`, `pip entry`). */
export interface LabelledRequirement {
  readonly label: string;
  readonly text: string;
}

/**
 * Checks every requirement and reports all bad ones in one ValidationError, so that a user fixes
 * a file in one pass; `where` names the file they came from.
 */
export function checkRequirements(owner: string, where: string | undefined, items: readonly LabelledRequirement[]): void {
  const problems: string[] = [];
  const bad: string[] = [];
  for (const item of items) {
    const problem = requirementProblem(item.text);
    if (problem === undefined) continue;
    bad.push(item.text);
    problems.push(`${item.label} ${JSON.stringify(item.text)}: ${problem}`);
  }
  if (problems.length === 0) return;
  const prefix = where === undefined ? "" : `in ${where}, `;
  invalid(owner, ENVIRONMENT_PROP, bad.length === 1 ? bad[0] : bad, `${prefix}${problems.length} invalid requirement(s): ${problems.join("; ")}`, REQUIREMENT_ALLOWED);
}
