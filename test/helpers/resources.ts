/** Builds in-memory LoadedResource fixtures for unit tests. */
import type { KubeObject, LoadedResource } from '../../src/config/resources/types.js';

const CLUSTER_SCOPED = new Set(['GatewayClass', 'IngressClass', 'Namespace']);
let nextSeq = 0;

/** Wrap a plain object as a LoadedResource (namespace defaults to "default"; no positions). */
export function res(obj: Record<string, any>, seq?: number): LoadedResource {
  const o = obj as KubeObject;
  const namespace = CLUSTER_SCOPED.has(o.kind) ? '' : (o.metadata?.namespace ?? 'default');
  return {
    key: { kind: o.kind, namespace, name: o.metadata.name },
    object: o,
    positionOf: () => undefined,
    source: 'test',
    seq: seq ?? nextSeq++,
  };
}

/** byKind() over a list of fixtures, in the given order. */
export function byKindOf(list: readonly LoadedResource[]): (kind: string) => readonly LoadedResource[] {
  return (kind) => list.filter((r) => r.key.kind === kind);
}
