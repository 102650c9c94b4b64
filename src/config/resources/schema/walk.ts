/**
 * The generic schema walker: checks one value against a schema, collects diagnostics and
 * returns the value with protobuf snake_case field names rewritten to their JSON names
 * (same object when nothing changed).
 */
import type { Diagnostic } from '../../../errors/diagnostic.js';
import type { LoadedResource } from '../types.js';
import { parseDuration, parseGatewayDuration } from '../duration.js';
import { re2Error } from '../re2.js';
import type { CheckContext, EnumSchema, ObjectSchema, Schema } from './dsl.js';
import { childPath, indexPath, protoJsonName, shortLabel } from './field-path.js';
import { didYouMean } from './suggest.js';

/** Collects diagnostics for one resource; positions come from the resource's positionOf. */
export class WalkContext implements CheckContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly #r: LoadedResource;

  constructor(r: LoadedResource) {
    this.#r = r;
  }

  error(code: string, path: string, message: string, suggestion?: string): void {
    this.#push('error', code, path, message, suggestion);
  }

  warn(code: string, path: string, message: string, suggestion?: string): void {
    this.#push('warning', code, path, message, suggestion);
  }

  #push(severity: 'error' | 'warning', code: string, path: string, message: string, suggestion?: string): void {
    const origin = this.#r.positionOf(path) ?? this.#r.origin;
    this.diagnostics.push({
      code,
      severity,
      resource: this.#r.key,
      path,
      ...(origin ? { origin } : {}),
      message,
      ...(suggestion ? { suggestion } : {}),
    });
  }
}

/** `a string`, `a number`, `a list`, … for "got …" in messages. */
export function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return typeof v;
  }
}

function expectedType(s: Schema): string {
  switch (s.kind) {
    case 'string': case 'regex': return 'a string';
    case 'int': return 'an integer';
    case 'number': return 'a number';
    case 'bool': return 'a boolean';
    case 'duration': return 'a duration string';
    case 'enum': return s.values.every((x) => typeof x === 'number') ? 'an integer' : 'a string';
    case 'intOrString': return 'an integer or a string';
    case 'object': case 'map': return 'an object';
    case 'array': return 'a list';
    case 'any': return 'anything';
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `"a"`, `"a" and "b"`, `"a", "b" and "c"`. */
function quoteList(names: readonly string[], conjunction = 'and'): string {
  const q = names.map((n) => `"${n}"`);
  return q.length <= 1 ? (q[0] ?? '') : `${q.slice(0, -1).join(', ')} ${conjunction} ${q[q.length - 1]}`;
}

function quoteValue(v: string | number): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `expected ${min} to ${max}`;
  if (min !== undefined) return `expected at least ${min}`;
  return `expected at most ${max}`;
}

function checkRange(n: number, min: number | undefined, max: number | undefined, path: string, ctx: WalkContext): boolean {
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    ctx.error('VALIDATE_RANGE', path, `Value ${n} for ${shortLabel(path)} is out of range: ${rangeText(min, max)}`);
    return false;
  }
  return true;
}

function typeError(v: unknown, s: Schema, path: string, ctx: WalkContext): void {
  let suggestion: string | undefined;
  // A bare number where a duration belongs is the usual slip: `timeout: 10`.
  if (s.kind === 'duration' && typeof v === 'number') suggestion = `did you mean "${v}s"?`;
  ctx.error('VALIDATE_TYPE', path, `Invalid type for ${shortLabel(path)}: expected ${expectedType(s)}, got ${describeType(v)}`, suggestion);
}

function checkEnum(v: unknown, s: EnumSchema, path: string, ctx: WalkContext): boolean {
  const numeric = s.values.every((x) => typeof x === 'number');
  if (numeric ? typeof v !== 'number' : typeof v !== 'string') {
    typeError(v, s, path, ctx);
    return false;
  }
  const value = v as string | number;
  if (s.values.includes(value)) return true;
  if (s.caseInsensitive && typeof value === 'string') {
    const lower = value.toLowerCase();
    if (s.values.some((x) => String(x).toLowerCase() === lower)) return true;
  }
  const expected = s.values.map(String).join(', ');
  const message = `Unknown value ${quoteValue(value)} for ${shortLabel(path)}: expected one of ${expected}${s.note ? ` (${s.note})` : ''}`;
  const suggestion = typeof value === 'string' ? didYouMean(value, s.values.map(String)) : undefined;
  if (s.severity === 'warning') ctx.warn('VALIDATE_ENUM', path, message, suggestion);
  else ctx.error('VALIDATE_ENUM', path, message, suggestion);
  return false;
}

/**
 * Checks `v` (never undefined) against `s` at `path`. `protoNames` is inherited: inside an
 * Istio spec, `per_try_timeout` is accepted for `perTryTimeout`, as protobuf JSON parsing does.
 */
export function walk(v: unknown, s: Schema, path: string, ctx: WalkContext, protoNames = false): unknown {
  let ok = true;
  switch (s.kind) {
    case 'any':
      break;
    case 'string':
      if (typeof v !== 'string') {
        typeError(v, s, path, ctx);
        return v;
      }
      if (s.minLength !== undefined && v.length < s.minLength) {
        ctx.error('VALIDATE_INVALID_VALUE', path, `Invalid value for ${shortLabel(path)}: must not be empty`);
        ok = false;
      }
      break;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        if (typeof v === 'number') ctx.error('VALIDATE_TYPE', path, `Invalid value ${v} for ${shortLabel(path)}: expected an integer`);
        else typeError(v, s, path, ctx);
        return v;
      }
      ok = checkRange(v, s.min, s.max, path, ctx);
      break;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        typeError(v, s, path, ctx);
        return v;
      }
      ok = checkRange(v, s.min, s.max, path, ctx);
      break;
    case 'bool':
      if (typeof v !== 'boolean') {
        typeError(v, s, path, ctx);
        return v;
      }
      break;
    case 'intOrString':
      if (typeof v === 'number') {
        if (!Number.isInteger(v)) {
          ctx.error('VALIDATE_TYPE', path, `Invalid value ${v} for ${shortLabel(path)}: expected an integer`);
          return v;
        }
        ok = checkRange(v, s.min, s.max, path, ctx);
      } else if (typeof v !== 'string' || v.length === 0) {
        typeError(v, s, path, ctx);
        return v;
      }
      break;
    case 'duration': {
      if (typeof v !== 'string') {
        typeError(v, s, path, ctx);
        return v;
      }
      const ms = s.format === 'gateway' ? parseGatewayDuration(v) : parseDuration(v);
      if (ms === undefined) {
        const like = s.format === 'gateway' ? '"10s", "1h30m" or "500ms"' : '"1.5s", "10ms" or "1h"';
        ctx.error('VALIDATE_DURATION', path, `Invalid duration ${JSON.stringify(v)} for ${shortLabel(path)}: expected a number with a unit, like ${like}`);
        return v;
      }
      if (s.minMs !== undefined && ms < s.minMs) {
        ctx.error('VALIDATE_DURATION', path, `Duration ${JSON.stringify(v)} for ${shortLabel(path)} is too short: must be at least ${s.minMs}ms`);
        ok = false;
      }
      break;
    }
    case 'enum':
      ok = checkEnum(v, s, path, ctx);
      break;
    case 'regex': {
      if (typeof v !== 'string') {
        typeError(v, s, path, ctx);
        return v;
      }
      if (s.allow?.includes(v)) break;
      const err = re2Error(v);
      if (err !== undefined) {
        ctx.error('VALIDATE_REGEX', path, `Invalid regex ${JSON.stringify(v)} for ${shortLabel(path)}: ${err}`);
        ok = false;
      }
      break;
    }
    case 'array': {
      if (!Array.isArray(v)) {
        typeError(v, s, path, ctx);
        return v;
      }
      if (s.minItems !== undefined && v.length < s.minItems) {
        ctx.error('VALIDATE_RANGE', path, `Too few items in ${shortLabel(path)}: expected at least ${s.minItems}`);
        ok = false;
      }
      if (s.maxItems !== undefined && v.length > s.maxItems) {
        ctx.error('VALIDATE_RANGE', path, `Too many items in ${shortLabel(path)}: expected at most ${s.maxItems}, got ${v.length}`);
        ok = false;
      }
      let out: unknown[] | undefined;
      v.forEach((item, i) => {
        const p = indexPath(path, i);
        const n = item === null || item === undefined ? (typeError(item, s.items, p, ctx), item) : walk(item, s.items, p, ctx, protoNames);
        if (n !== item) (out ??= v.slice())[i] = n;
      });
      if (ok && s.check) s.check(out ?? v, path, ctx);
      return out ?? v;
    }
    case 'map': {
      if (!isPlainObject(v)) {
        typeError(v, s, path, ctx);
        return v;
      }
      let out: Record<string, unknown> | undefined;
      for (const [k, item] of Object.entries(v)) {
        const p = childPath(path, k);
        s.keyCheck?.(k, p, ctx);
        // A map entry with no value (`x-debug:`) is a null; for StringMatch maps that means "present".
        if (item === null || item === undefined) {
          if (s.values.kind !== 'object' && s.values.kind !== 'any') typeError(item, s.values, p, ctx);
          continue;
        }
        const n = walk(item, s.values, p, ctx, protoNames);
        if (n !== item) (out ??= { ...v })[k] = n;
      }
      if (s.check) s.check(out ?? v, path, ctx);
      return out ?? v;
    }
    case 'object':
      return walkObject(v, s, path, ctx, protoNames);
  }
  if (ok && s.check) s.check(v, path, ctx);
  return v;
}

function walkObject(v: unknown, s: ObjectSchema, path: string, ctx: WalkContext, protoNamesIn: boolean): unknown {
  if (!isPlainObject(v)) {
    typeError(v, s, path, ctx);
    return v;
  }
  const protoNames = protoNamesIn || s.protoNames === true;
  const fields = s.fields;
  let out: Record<string, unknown> | undefined;
  const present = new Set<string>();
  for (const [key, item] of Object.entries(v)) {
    let name = key;
    let field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!field && protoNames && key.includes('_')) {
      const json = protoJsonName(key);
      if (Object.hasOwn(fields, json)) {
        if (Object.hasOwn(v, json)) {
          ctx.warn('VALIDATE_DUPLICATE_FIELD', childPath(path, key), `Ignoring field "${key}": "${json}" is also set`);
          (out ??= { ...v });
          delete out[key];
          continue;
        }
        name = json;
        field = fields[json];
      }
    }
    const p = childPath(path, name);
    if (!field) {
      if (!s.open) {
        const label = path ? ` in ${shortLabel(path)}` : '';
        ctx.warn('VALIDATE_UNKNOWN_FIELD', p, `Unknown field "${key}"${label}`, didYouMean(key, Object.keys(fields)));
      }
      continue;
    }
    if (item === null || item === undefined) {
      // Kubernetes treats `field: null` (or `field:` with no value) as absent.
      if (name !== key) {
        (out ??= { ...v });
        delete out[key];
      }
      continue;
    }
    present.add(name);
    if (field.deprecated) {
      ctx.warn('VALIDATE_DEPRECATED_FIELD', p, `Deprecated field "${name}" in ${shortLabel(path) || 'the object'}: ${field.deprecated}`);
    }
    const n = walk(item, field, p, ctx, protoNames);
    if (name !== key) {
      out ??= { ...v };
      delete out[key];
      out[name] = n;
    } else if (n !== item) {
      (out ??= { ...v })[key] = n;
    }
  }
  for (const [name, field] of Object.entries(fields)) {
    if (field.required && !present.has(name)) {
      const where = path ? ` in ${shortLabel(path)}` : '';
      ctx.error('VALIDATE_REQUIRED', childPath(path, name), `Missing required field "${name}"${where}`);
    }
  }
  for (const group of s.oneOf ?? []) {
    const set = group.fields.filter((f) => present.has(f));
    const where = path ? ` of ${shortLabel(path)}` : '';
    if (set.length > 1) {
      ctx.error('VALIDATE_ONE_OF', childPath(path, set[1]!), `Conflicting fields ${quoteList(set)}${where}: set only one`);
    } else if (set.length === 0 && group.mode === 'exactlyOne') {
      const inside = path ? ` in ${shortLabel(path)}` : '';
      ctx.error('VALIDATE_ONE_OF', path, `Missing one of ${quoteList(group.fields, 'or')}${inside}: set exactly one`);
    }
  }
  const result = out ?? v;
  if (s.check) s.check(result, path, ctx);
  return result;
}
