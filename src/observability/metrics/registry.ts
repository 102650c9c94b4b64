/**
 * A small Prometheus registry: counters, gauges and histograms keyed by label tuples, rendered
 * as Prometheus text format 0.0.4 or OpenMetrics 1.0. Built for the request path:
 *
 *  - the caller finds a series with ONE Map lookup by a short key it builds from the few
 *    values that vary per request (or caches the series object itself); label text is
 *    escaped and joined once, when the series is created;
 *  - histograms keep per-bucket counts in a Float64Array and find the bucket by a short scan;
 *  - each family holds at most `maxSeries` series; beyond that new label tuples go to one
 *    overflow series (every label `overflow`) and are counted, so cardinality is bounded even
 *    when a tag override reads an unbounded header.
 */

/** Envoy's default histogram buckets (ms for durations, bytes for sizes). */
export const ENVOY_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
]);

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Escape a label value (text format 0.0.4 and OpenMetrics). */
export function escapeLabel(v: string): string {
  let needs = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 || c === 34 || c === 10) { needs = true; break; }
  }
  if (!needs) return v;
  let out = '';
  for (const ch of v) out += ch === '\\' ? '\\\\' : ch === '"' ? '\\"' : ch === '\n' ? '\\n' : ch;
  return out;
}

/** `{a="1",b="2"}` (or '' for no labels). */
export function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  let s = '{';
  for (let i = 0; i < names.length; i++) s += `${i ? ',' : ''}${names[i]}="${escapeLabel(values[i] ?? '')}"`;
  return `${s}}`;
}

function fmtNum(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** One counter or gauge series. */
export class ScalarSeries {
  readonly labels: string;
  value = 0;
  constructor(labels: string) { this.labels = labels; }
  inc(n = 1): void { this.value += n; }
  set(n: number): void { this.value = n; }
}

/** One histogram series. `counts[i]` = observations in bucket i (non-cumulative); last = +Inf. */
export class HistogramSeries {
  readonly labels: string;
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(labels: string, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

type SeriesOf<T extends MetricType> = T extends 'histogram' ? HistogramSeries : ScalarSeries;

/** A metric family: name, help, label names and its series by key. */
export class Family<T extends MetricType = MetricType> {
  readonly name: string;
  readonly help: string;
  readonly type: T;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  readonly maxSeries: number;
  /** Series bring their own label names (see seriesText); such a family never renders an unlabelled 0. */
  readonly free: boolean;
  readonly #series = new Map<string, SeriesOf<T>>();
  #overflow: SeriesOf<T> | undefined;
  /** New label tuples refused because the family was full. */
  overflowed = 0;

  constructor(name: string, help: string, type: T, labelNames: readonly string[], buckets: readonly number[], maxSeries: number,
    free = false) {
    this.free = free;
    this.name = name;
    this.help = help;
    this.type = type;
    this.labelNames = labelNames;
    this.buckets = buckets;
    this.maxSeries = maxSeries;
  }

  /**
   * The series for `key`; `values()` gives its label values (in labelNames order) and is only
   * called when the series is created.
   */
  series(key: string, values: () => readonly string[]): SeriesOf<T> {
    const s = this.#series.get(key);
    if (s !== undefined) return s;
    return this.#insert(key, () => labelText(this.labelNames, values()));
  }

  /**
   * The series for `key` in a family whose series carry their own label names (`free`
   * families: Istio metrics, whose labels change with tag overrides); `labels()` gives the
   * rendered `{a="1"}` text on creation.
   */
  seriesText(key: string, labels: () => string): SeriesOf<T> {
    const s = this.#series.get(key);
    if (s !== undefined) return s;
    return this.#insert(key, labels);
  }

  #insert(key: string, labels: () => string): SeriesOf<T> {
    if (this.#series.size >= this.maxSeries) {
      this.overflowed++;
      this.#overflow ??= this.#create(this.labelNames.length > 0
        ? labelText(this.labelNames, this.labelNames.map(() => 'overflow'))
        : '{portico_overflow="true"}');
      return this.#overflow;
    }
    const s = this.#create(labels());
    this.#series.set(key, s);
    return s;
  }

  /** Series by explicit label values (key = values joined). */
  with(...values: string[]): SeriesOf<T> {
    return this.series(values.join('\u0001'), () => values);
  }

  /** Drop every series (scrape-time gauges rebuilt on each collect). */
  reset(): void {
    this.#series.clear();
    this.#overflow = undefined;
  }

  /** Remove one series (a certificate that went away). */
  delete(key: string): void { this.#series.delete(key); }

  get size(): number { return this.#series.size + (this.#overflow ? 1 : 0); }

  #create(labels: string): SeriesOf<T> {
    return (this.type === 'histogram' ? new HistogramSeries(labels, this.buckets) : new ScalarSeries(labels)) as SeriesOf<T>;
  }

  /** Every series, overflow last. */
  *all(): IterableIterator<SeriesOf<T>> {
    yield* this.#series.values();
    if (this.#overflow) yield this.#overflow;
  }
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Default cap on series per family. */
export const DEFAULT_MAX_SERIES = 10_000;

export class Registry {
  readonly #families: Family[] = [];
  readonly #byName = new Map<string, Family>();
  readonly #collectors: (() => void)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = [], maxSeries = DEFAULT_MAX_SERIES): Family<'counter'> {
    return this.#add(new Family(name, help, 'counter', labelNames, [], maxSeries));
  }

  /** A family whose series carry their own label names (seriesText). */
  freeFamily<T extends MetricType>(name: string, help: string, type: T, buckets: readonly number[] = ENVOY_BUCKETS,
    maxSeries = DEFAULT_MAX_SERIES): Family<T> {
    return this.#add(new Family(name, help, type, [], type === 'histogram' ? buckets : [], maxSeries, true));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], maxSeries = DEFAULT_MAX_SERIES): Family<'gauge'> {
    return this.#add(new Family(name, help, 'gauge', labelNames, [], maxSeries));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = ENVOY_BUCKETS,
    maxSeries = DEFAULT_MAX_SERIES): Family<'histogram'> {
    return this.#add(new Family(name, help, 'histogram', labelNames, buckets, maxSeries));
  }

  /** Called before each render (scrape-time gauges). Must not throw. */
  onCollect(fn: () => void): void { this.#collectors.push(fn); }

  family(name: string): Family | undefined { return this.#byName.get(name); }
  get families(): readonly Family[] { return this.#families; }

  #add<T extends MetricType>(f: Family<T>): Family<T> {
    if (this.#byName.has(f.name)) throw new RangeError(`Metric family "${f.name}" is already registered`);
    this.#families.push(f as unknown as Family);
    this.#byName.set(f.name, f as unknown as Family);
    return f;
  }

  /** Prometheus text format 0.0.4, or OpenMetrics 1.0 (`# EOF` terminated). */
  render(openMetrics = false): string {
    for (const c of this.#collectors) {
      try { c(); } catch { /* a collector must never break the scrape */ }
    }
    const out: string[] = [];
    for (const f of this.#families) {
      if (f.size === 0 && (f.labelNames.length > 0 || f.free)) {
        // Families without series still announce themselves (dashboards see the metric exists).
        out.push(...header(f, openMetrics));
        continue;
      }
      out.push(...header(f, openMetrics));
      if (f.size === 0) {
        if (f.type !== 'histogram') out.push(`${sampleName(f, openMetrics)} 0`);
        continue;
      }
      if (f.type === 'histogram') {
        for (const s of (f as Family<'histogram'>).all()) renderHistogram(f.name, s, out);
      } else {
        const n = sampleName(f, openMetrics);
        for (const s of (f as Family<'counter'>).all()) out.push(`${n}${s.labels} ${fmtNum(s.value)}`);
      }
    }
    if (openMetrics) out.push('# EOF');
    return `${out.join('\n')}\n`;
  }
}

/** OpenMetrics names a counter family without `_total`; its samples carry it. */
function familyName(f: Family, om: boolean): string {
  return om && f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -6) : f.name;
}

function sampleName(f: Family, om: boolean): string {
  return om && f.type === 'counter' && !f.name.endsWith('_total') ? `${f.name}_total` : f.name;
}

function header(f: Family, om: boolean): string[] {
  const n = familyName(f, om);
  const help = f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return [`# HELP ${n} ${help}`, `# TYPE ${n} ${f.type}`];
}

function renderHistogram(name: string, s: HistogramSeries, out: string[]): void {
  // `le` goes last inside the braces.
  const base = s.labels === '' ? '{' : `${s.labels.slice(0, -1)},`;
  let cum = 0;
  for (let i = 0; i < s.bounds.length; i++) {
    cum += s.counts[i]!;
    out.push(`${name}_bucket${base}le="${fmtNum(s.bounds[i]!)}"} ${cum}`);
  }
  cum += s.counts[s.bounds.length]!;
  out.push(`${name}_bucket${base}le="+Inf"} ${cum}`);
  out.push(`${name}_sum${s.labels} ${fmtNum(s.sum)}`);
  out.push(`${name}_count${s.labels} ${s.count}`);
}

/** Pick the exposition format from an Accept header. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}
