/**
 * DestinationRules visible to the gateway: host expansion, subsets, parsed traffic policies,
 * and the choice of the rule that applies to a service host.
 */
import type { LoadedResource, WorkloadIdentity } from '../../resources/types.js';
import { type DiagnosticSink, compareAge, isExportedTo, labelMap, labelsMatch } from './shared.js';
import { type TrafficPolicy, parseTrafficPolicy } from './traffic-policy.js';

/** A named endpoint group of a rule. */
export interface SubsetRule {
  readonly name: string;
  /** Endpoint label filter; empty selects every endpoint. */
  readonly labels: Readonly<Record<string, string>>;
  readonly policy?: TrafficPolicy;
}

/** One DestinationRule, parsed. */
export interface DestinationRuleEntry {
  readonly resource: LoadedResource;
  /** Lower-case FQDN, `*.suffix` or `*`. */
  readonly host: string;
  readonly policy?: TrafficPolicy;
  readonly subsets: ReadonlyMap<string, SubsetRule>;
}

/** What the DestinationRule builder reads. */
export interface RuleInput {
  readonly byKind: (kind: string) => readonly LoadedResource[];
  readonly identity: WorkloadIdentity;
  readonly sink: DiagnosticSink;
}

/**
 * Short names (no dot) are expanded with the namespace of the rule, not of the service
 * (istio-networking.md, conventions).
 */
export function expandHost(host: string, ruleNamespace: string, clusterDomain: string): string {
  const h = host.toLowerCase();
  return h.includes('.') || h.startsWith('*') ? h : `${h}.${ruleNamespace}.svc.${clusterDomain}`;
}

/**
 * How specifically a rule host covers a service host: exact beats every wildcard, a longer
 * wildcard suffix beats a shorter one, `*` is last. Undefined when it does not cover it.
 * `*.example.com` covers `a.example.com` and `a.b.example.com`, never `example.com`.
 */
export function hostMatchScore(ruleHost: string, serviceHost: string): number | undefined {
  if (ruleHost === serviceHost) return Number.MAX_SAFE_INTEGER;
  if (ruleHost === '*') return 0;
  if (!ruleHost.startsWith('*.')) return undefined;
  const suffix = ruleHost.slice(1);
  return serviceHost.length > suffix.length && serviceHost.endsWith(suffix) ? suffix.length : undefined;
}

/** The rule for a host: most specific host match, then the oldest rule. */
export function selectRule(rules: readonly DestinationRuleEntry[], serviceHost: string): DestinationRuleEntry | undefined {
  let best: DestinationRuleEntry | undefined;
  let bestScore = -1;
  for (const rule of rules) {
    const score = hostMatchScore(rule.host, serviceHost);
    if (score === undefined) continue;
    if (score > bestScore || (score === bestScore && best && compareAge(rule.resource, best.resource) < 0)) {
      best = rule;
      bestScore = score;
    }
  }
  return best;
}

/** Parse every DestinationRule the gateway can see (exportTo, workloadSelector). */
export function buildDestinationRules(input: RuleInput): DestinationRuleEntry[] {
  const { identity, sink } = input;
  const out: DestinationRuleEntry[] = [];
  for (const r of input.byKind('DestinationRule')) {
    if (!r.object.apiVersion.startsWith('networking.istio.io/')) continue;
    const spec = r.object.spec ?? {};
    const ns = r.key.namespace;
    if (!isExportedTo(spec.exportTo, ns, identity.namespace)) continue;
    const selector = labelMap(spec.workloadSelector?.matchLabels);
    // A rule with a workloadSelector applies only to selected workloads of its own namespace.
    if (spec.workloadSelector !== undefined && (ns !== identity.namespace || !labelsMatch(selector ?? {}, identity.labels))) continue;
    if (typeof spec.host !== 'string' || spec.host === '') {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'error', 'spec.host', `Ignoring DestinationRule "${r.key.name}": host is missing`);
      continue;
    }
    const at = { r, sink };
    const policy = parseTrafficPolicy(spec.trafficPolicy, 'spec.trafficPolicy', at);
    out.push({
      resource: r,
      host: expandHost(spec.host, ns, identity.clusterDomain),
      ...(policy ? { policy } : {}),
      subsets: parseSubsets(r, sink),
    });
  }
  return out;
}

function parseSubsets(r: LoadedResource, sink: DiagnosticSink): Map<string, SubsetRule> {
  const out = new Map<string, SubsetRule>();
  const firstAt = new Map<string, number>();
  const raw: unknown = r.object.spec?.subsets;
  (Array.isArray(raw) ? raw : []).forEach((s: any, i: number) => {
    const path = `spec.subsets[${i}]`;
    if (typeof s?.name !== 'string' || s.name === '') {
      sink.add(r, 'REGISTRY_INVALID_FIELD', 'warning', `${path}.name`, `Ignoring subset ${i} of DestinationRule "${r.key.name}": name is missing`);
      return;
    }
    const first = firstAt.get(s.name);
    if (first !== undefined) {
      sink.add(r, 'REGISTRY_DR_DUPLICATE_SUBSET', 'error', `${path}.name`,
        `Ignoring subset "${s.name}": the name is already used by spec.subsets[${first}]`);
      return;
    }
    firstAt.set(s.name, i);
    const policy = parseTrafficPolicy(s.trafficPolicy, `${path}.trafficPolicy`, { r, sink });
    out.set(s.name, { name: s.name, labels: labelMap(s.labels) ?? {}, ...(policy ? { policy } : {}) });
  });
  return out;
}
