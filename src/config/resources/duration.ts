/**
 * Duration strings as written in Istio and Gateway API resources.
 *
 * Istio reads protobuf Durations but, like Go's time.ParseDuration, accepts a sequence of
 * decimal numbers with units: "1.5s", "10ms", "1h", "1h30m", "250us". Gateway API
 * (GEP-2257) allows a stricter subset: 1–4 groups of up to 5 digits with h, m, s or ms.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GROUP = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a duration string to milliseconds (fractions allowed: "250us" → 0.25).
 * Returns undefined for anything that is not a valid non-negative duration, including
 * numbers without a unit (except the literal "0") and negative values.
 */
export function parseDuration(s: string): number | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  if (s === '0') return 0;
  let total = 0;
  GROUP.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    GROUP.lastIndex = pos;
    const m = GROUP.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = GROUP.lastIndex;
  }
  return Number.isFinite(total) ? total : undefined;
}

const GATEWAY_DURATION = /^(?:\d{1,5}(?:h|m|s|ms)){1,4}$/;

/**
 * Parses a Gateway API duration (GEP-2257: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, e.g. "10s",
 * "1h30m", "500ms") to milliseconds; undefined when the string does not follow that format.
 */
export function parseGatewayDuration(s: string): number | undefined {
  if (typeof s !== 'string' || !GATEWAY_DURATION.test(s)) return undefined;
  return parseDuration(s);
}

/** Formats milliseconds the way Istio prints durations: "1.5s", "250ms", "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
