/** Shared flag helpers for the CLI commands. */

/** A bad flag value: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Read an integer flag, or throw a UsageError naming it. */
export function intFlag(v: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const raw = v[name];
  if (raw === undefined) return def;
  const s = String(raw);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
    throw new UsageError(`Invalid value "${s}" for --${name}: expected an integer from ${min} to ${max}`);
  }
  return Number(s);
}

/** Parse `k=v,k2=v2`. */
export function labelsFlag(v: Record<string, unknown>, def: Record<string, string>): Record<string, string> {
  const raw = v.labels as string | undefined;
  if (raw === undefined) return def;
  const out: Record<string, string> = {};
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`Invalid value "${raw}" for --labels: expected k=v,k2=v2`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

