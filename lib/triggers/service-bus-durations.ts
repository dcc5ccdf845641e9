/**
 * The ISO 8601 durations of Service Bus settings (`PT1M`, `P7D`): read as seconds to check them
 * against the ranges Service Bus accepts, written back for computed defaults, and turned into the
 * .NET TimeSpan that host.json takes.
 */
import { invalid } from "../errors";

/** Seconds in an ISO 8601 duration `P[nD][T[nH][nM][nS]]`, or undefined when it is not one. */
export function isoDurationSeconds(value: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value);
  if (!m || value === "P" || value.endsWith("T")) return undefined;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** `seconds` as an ISO 8601 duration ("PT1H50M", "P1DT2H"). */
export function isoDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
  const text = `P${d ? `${d}D` : ""}${time ? `T${time}` : ""}`;
  return text === "P" ? "PT0S" : text;
}

/** `seconds` as a .NET TimeSpan for host.json ("00:10:00"); below one day. */
export function timeSpan(seconds: number): string {
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(Math.floor(seconds % 60))}`;
}

/**
 * Seconds of `value`, a duration prop that Service Bus accepts from `min` to `max` seconds
 * (`range` says the same in ISO 8601); a ValidationError naming `owner` and `prop` otherwise.
 */
export function checkDuration(owner: string, prop: string, value: string, min: number, max: number, range: string): number {
  const seconds = typeof value === "string" ? isoDurationSeconds(value) : undefined;
  if (seconds === undefined) invalid(owner, prop, value, "not an ISO 8601 duration", `an ISO 8601 duration from ${range}, e.g. "PT1M"`);
  if (seconds < min || seconds > max) invalid(owner, prop, value, `${seconds} seconds is outside the range Service Bus accepts`, `an ISO 8601 duration from ${range}`);
  return seconds;
}
