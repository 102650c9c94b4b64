/**
 * The generated parts of docs/observability.md: command operators, response flags and details,
 * metric families. The doc holds them between `<!-- generated:NAME -->` markers; a test fails
 * when they drift and rewrites them with UPDATE_DOCS=1.
 */
import { DETAIL_DOCS, FLAG_DOCS, FLAG_LONG_NAMES, Flag } from '../dataplane/http/details.js';
import { OPERATORS } from './format/operators.js';
import { ISTIO_LABELS, Metrics, sourceWorkload } from './metrics/index.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** Operator table. */
export function operatorsTable(): string {
  const rows = [...OPERATORS].map(([name, spec]) => {
    const syntax = spec.arg === 'required' ? `%${name}(…)%` : spec.arg === 'optional' ? `%${name}%`.concat(` / %${name}(…)%`) : `%${name}%`;
    return `| \`${cell(syntax)}\` | ${cell(spec.doc)} |`;
  });
  return ['| operator | value |', '|---|---|', ...rows].join('\n');
}

/** Response flag table (short, long, meaning). */
export function flagsTable(): string {
  const rows = Object.values(Flag).map((f) => `| \`${f}\` | ${FLAG_LONG_NAMES[f]} | ${cell(FLAG_DOCS[f] ?? '')} |`);
  return ['| flag | long name (%RESPONSE_FLAGS_LONG%) | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Response code details table. */
export function detailsTable(): string {
  const rows = Object.entries(DETAIL_DOCS).map(([d, { status, meaning }]) => `| \`${cell(d)}\` | ${status} | ${cell(meaning)} |`);
  return ['| detail | status | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Metric families with type and labels. */
export function metricsTable(): string {
  const m = new Metrics(sourceWorkload('istio-system', { istio: 'ingressgateway' }));
  try {
    const rows = m.registry.families.map((f) => {
      const labels = f.free ? (f.name.startsWith('istio_') ? 'Istio standard labels (below) + tag overrides' : 'chosen by the caller') : f.labelNames.map((l) => `\`${l}\``).join(', ');
      return `| \`${f.name}\` | ${f.type} | ${labels || '—'} | ${cell(f.help)} |`;
    });
    return ['| metric | type | labels | meaning |', '|---|---|---|---|', ...rows, '', `Istio standard labels, in order: ${ISTIO_LABELS.map((l) => `\`${l}\``).join(', ')}.`].join('\n');
  } finally {
    m.close();
  }
}

/** Every generated section by marker name. */
export const GENERATED: Readonly<Record<string, () => string>> = {
  operators: operatorsTable,
  flags: flagsTable,
  details: detailsTable,
  metrics: metricsTable,
};

/** Replace every `<!-- generated:NAME -->…<!-- /generated:NAME -->` block with fresh content. */
export function regenerate(doc: string): string {
  let out = doc;
  for (const [name, fn] of Object.entries(GENERATED)) {
    const start = `<!-- generated:${name} -->`;
    const end = `<!-- /generated:${name} -->`;
    const a = out.indexOf(start);
    const b = out.indexOf(end);
    if (a === -1 || b === -1) throw new RangeError(`docs/observability.md lacks the ${start} … ${end} block`);
    out = `${out.slice(0, a + start.length)}\n${fn()}\n${out.slice(b)}`;
  }
  return out;
}
