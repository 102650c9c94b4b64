/**
 * A spec object together with the location of each of its fields. A plain VirtualService
 * route reads every field from one place; a delegate route mixes fields of the root and of
 * the delegate (Istio mergeHTTPRoute), so diagnostics must point at whichever wrote the field.
 */
import { at, isObj, type Loc } from './diag.js';

/** Spec fields plus where each came from. */
export interface Sourced {
  readonly value: Readonly<Record<string, unknown>>;
  /** Location of `field`, or of map key `key` inside `field`. */
  loc(field: string, key?: string): Loc;
}

/** Wraps one object living at `base`. */
export function sourced(value: unknown, base: Loc): Sourced {
  return {
    value: isObj(value) ? value : {},
    loc: (field, key) => (key === undefined ? at(base, field) : at(at(base, field), key)),
  };
}

/** Builds a merged object field by field. */
export class SourcedBuilder {
  readonly #value: Record<string, unknown> = {};
  readonly #fields = new Map<string, Loc>();
  readonly #keys = new Map<string, Map<string, Loc>>();

  /** Takes `field` from `from` (when present there). */
  field(from: Sourced, field: string): this {
    if (from.value[field] === undefined) return this;
    this.#value[field] = from.value[field];
    this.#fields.set(field, from.loc(field));
    return this;
  }

  /** Sets a computed field that is attributed to `loc`. */
  set(field: string, value: unknown, loc: Loc): this {
    this.#value[field] = value;
    this.#fields.set(field, loc);
    return this;
  }

  /** Merges map field `field` key by key; later calls overwrite earlier keys. */
  mapField(from: Sourced, field: string): this {
    const src = from.value[field];
    if (!isObj(src)) return this;
    const dst = (isObj(this.#value[field]) ? { ...(this.#value[field] as Record<string, unknown>) } : {}) as Record<string, unknown>;
    let keys = this.#keys.get(field);
    if (!keys) this.#keys.set(field, (keys = new Map()));
    for (const [k, v] of Object.entries(src)) {
      dst[k] = v;
      keys.set(k, from.loc(field, k));
    }
    this.#value[field] = dst;
    if (!this.#fields.has(field)) this.#fields.set(field, from.loc(field));
    return this;
  }

  /** The merged object. */
  build(fallback: Loc): Sourced {
    const value = { ...this.#value };
    const fields = new Map(this.#fields);
    const keys = new Map(this.#keys);
    return {
      value,
      loc(field, key) {
        if (key !== undefined) {
          const k = keys.get(field)?.get(key);
          if (k) return k;
          return at(fields.get(field) ?? at(fallback, field), key);
        }
        return fields.get(field) ?? at(fallback, field);
      },
    };
  }
}
