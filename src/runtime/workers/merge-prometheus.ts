/**
 * Merges Prometheus text expositions (format 0.0.4, and the OpenMetrics subset Portico emits)
 * from several worker processes into one, as if a single process had counted everything.
 *
 * - counter and histogram series are summed (histograms bucket by bucket: identical `le`
 *   labels add up, `_sum` and `_count` too), so rates and quantiles computed by Prometheus
 *   from the merged text equal those of the whole pod;
 * - summary `_sum`/`_count` are summed; a quantile cannot be merged exactly, so the largest
 *   worker quantile is reported (an upper bound);
 * - gauges are summed (connections, requests in flight, memory) unless their meaning is not
 *   additive: see {@link defaultGaugeMerge}. {@link MergeOptions.gauge} overrides the choice
 *   per metric family.
 *
 * Series are identified by name and label set (label order and escaping do not matter); a
 * series present in only some workers is kept with the sum of those that have it. Output keeps
 * the order of first appearance, with one `# HELP` and one `# TYPE` per family.
 */

/** How a gauge family is merged. */
export type GaugeMerge = 'sum' | 'max' | 'min';

/** Options of {@link mergePrometheus}. */
export interface MergeOptions {
  /** Merge mode of a gauge (or untyped) family; default {@link defaultGaugeMerge}. */
  readonly gauge?: (family: string) => GaugeMerge;
}

type Kind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'info' | 'stateset' | 'gaugehistogram' | 'unknown';

interface Series {
  readonly name: string;
  /** Label text as first seen, `{a="1"}` or ''. */
  readonly labelText: string;
  value: number;
  timestamp: string | undefined;
  /** Sample merge rule for this series. */
  readonly mode: GaugeMerge | 'quantile';
}

interface Family {
  readonly name: string;
  kind: Kind;
  help: string | undefined;
  readonly series: Map<string, Series>;
}

/** Gauges every worker reports about the same shared thing (each worker sees every endpoint). */
const SAME_IN_EVERY_WORKER = new Set(['portico_cluster_endpoints']);

/**
 * How a gauge family merges when nothing else is said:
 * - `min`: "up" gauges (up only where up in every worker) and expiry timestamps (the soonest);
 * - `max`: values that are per-process, not additive: build info, timestamps, versions,
 *   generations, event-loop delay and utilisation (the worst worker), and gauges every
 *   worker reports about the same shared thing (cluster endpoints);
 * - `sum`: everything else (connections, requests in flight, memory, idle pool sockets).
 */
export function defaultGaugeMerge(family: string): GaugeMerge {
  if (/_up$|_expiry_timestamp_seconds$/.test(family)) return 'min';
  if (SAME_IN_EVERY_WORKER.has(family)) return 'max';
  if (/(_info|_timestamp|_timestamp_seconds|_time_seconds|_generation|_version|_utilization|_utilisation|_ratio)$/.test(family)) return 'max';
  if (/_(delay|lag)(_[a-z]+)?$/.test(family)) return 'max';
  return 'sum';
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['_sum', '_count', '_created'],
  info: ['_info'],
};

/** Merge the expositions `texts` (one per worker) into one. */
export function mergePrometheus(texts: readonly string[], opts: MergeOptions = {}): string {
  const gaugeMode = opts.gauge ?? defaultGaugeMerge;
  const families = new Map<string, Family>();
  let eof = false;
  for (const text of texts) {
    // A family's TYPE applies to sample names with the family's suffixes in this text only.
    const local = new Map<string, Family>();
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') continue;
      if (line.startsWith('#')) {
        const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
        if (m) {
          const fam = familyOf(families, m[2]!);
          local.set(fam.name, fam);
          if (m[1] === 'HELP') fam.help ??= m[3] ?? '';
          else fam.kind = parseKind(m[3]);
        } else if (/^#\s*EOF\s*$/.test(line)) {
          eof = true;
        }
        continue;
      }
      const sample = parseSample(line);
      if (sample === undefined) continue; // not a sample: ignored rather than corrupting the output
      const fam = resolveFamily(sample.name, local, families);
      const isQuantile = fam.kind === 'summary' && sample.name === fam.name;
      const mode: GaugeMerge | 'quantile' = isQuantile ? 'quantile'
        : fam.kind === 'gauge' || fam.kind === 'untyped' || fam.kind === 'unknown' || fam.kind === 'info' ? gaugeMode(fam.name) : 'sum';
      const key = `${sample.name}${sample.labelKey}`;
      const cur = fam.series.get(key);
      if (cur === undefined) {
        fam.series.set(key, { name: sample.name, labelText: sample.labelText, value: sample.value, timestamp: sample.timestamp, mode });
      } else {
        cur.value = combine(cur.mode, cur.value, sample.value);
        if (sample.timestamp !== undefined && (cur.timestamp === undefined || Number(sample.timestamp) > Number(cur.timestamp))) cur.timestamp = sample.timestamp;
      }
    }
  }
  const out: string[] = [];
  for (const fam of families.values()) {
    if (fam.help !== undefined) out.push(`# HELP ${fam.name} ${fam.help}`.trimEnd());
    if (fam.kind !== 'unknown') out.push(`# TYPE ${fam.name} ${fam.kind}`);
    for (const s of fam.series.values()) {
      out.push(`${s.name}${s.labelText} ${formatValue(s.value)}${s.timestamp !== undefined ? ` ${s.timestamp}` : ''}`);
    }
  }
  if (eof) out.push('# EOF');
  return out.length ? `${out.join('\n')}\n` : '';
}

function familyOf(families: Map<string, Family>, name: string): Family {
  let f = families.get(name);
  if (!f) families.set(name, (f = { name, kind: 'unknown', help: undefined, series: new Map() }));
  return f;
}

function parseKind(s: string | undefined): Kind {
  const k = (s ?? '').trim();
  return k === 'counter' || k === 'gauge' || k === 'histogram' || k === 'summary' || k === 'untyped' || k === 'info'
    || k === 'stateset' || k === 'gaugehistogram' ? k : 'unknown';
}

/** The family a sample belongs to: its own name, or a typed family whose suffix it carries. */
function resolveFamily(sample: string, local: ReadonlyMap<string, Family>, families: Map<string, Family>): Family {
  const own = local.get(sample) ?? families.get(sample);
  if (own !== undefined) return own;
  for (const fam of local.values()) {
    for (const suffix of SUFFIXES[fam.kind] ?? []) {
      if (sample === fam.name + suffix) return fam;
    }
  }
  // Untyped: its own family.
  return familyOf(families, sample);
}

function combine(mode: GaugeMerge | 'quantile', a: number, b: number): number {
  switch (mode) {
    case 'sum': return a + b;
    case 'max': case 'quantile': return Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b);
    case 'min': return Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.min(a, b);
  }
}

interface Sample {
  readonly name: string;
  readonly labelText: string;
  /** Canonical label set: sorted `name=value` pairs with values unescaped. */
  readonly labelKey: string;
  readonly value: number;
  readonly timestamp: string | undefined;
}

/** `name{a="x",b="y"} 1.5 [timestamp]`; undefined when the line is not a sample. */
export function parseSample(line: string): Sample | undefined {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) return undefined;
  const name = m[1]!;
  let i = name.length;
  let labelText = '';
  let labelKey = '';
  if (line[i] === '{') {
    const pairs: [string, string][] = [];
    const start = i;
    i++;
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++;
      if (line[i] === '}') { i++; break; }
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(i));
      if (!lm) return undefined;
      i += lm[0].length;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) return undefined;
        if (c === '"') { i++; break; }
        if (c === '\\') {
          const n = line[i + 1];
          value += n === 'n' ? '\n' : n ?? '';
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      pairs.push([lm[1]!, value]);
    }
    labelText = line.slice(start, i);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    labelKey = `{${pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest.length < 1 || rest[0] === '') return undefined;
  const value = parseValue(rest[0]!);
  if (value === undefined) return undefined;
  return { name, labelText, labelKey, value, timestamp: rest[1] };
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const n = Number(s);
  return Number.isNaN(n) ? undefined : n;
}

/** Prometheus spelling of a value: `+Inf`, `-Inf`, `NaN`, else the shortest round-trip form. */
export function formatValue(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return String(n);
}
