/**
 * A small declarative schema language for resource validation. Schemas are plain data
 * built with the constructors below and checked by the generic walker in `walk.ts`:
 *
 * ```ts
 * const port = obj({ number: req(int({ min: 1, max: 65535 })), name: str() });
 * ```
 */
import type { Severity } from '../../../errors/diagnostic.js';

/** Reports problems from custom checks; paths are full field paths. */
export interface CheckContext {
  error(code: string, path: string, message: string, suggestion?: string): void;
  warn(code: string, path: string, message: string, suggestion?: string): void;
}

/** A custom rule run after the built-in checks of a value passed (value has the schema's type). */
export type Check = (value: any, path: string, ctx: CheckContext) => void;

interface Base {
  /** Missing (or null) is an error when set; only meaningful for object fields. */
  readonly required?: boolean;
  /** Set: using the field gives a VALIDATE_DEPRECATED_FIELD warning with this hint. */
  readonly deprecated?: string;
  readonly check?: Check;
}

export interface StringSchema extends Base {
  readonly kind: 'string';
  readonly minLength?: number;
  /** Values never appear in messages (Secret data). */
  readonly secret?: boolean;
}

export interface IntSchema extends Base {
  readonly kind: 'int';
  readonly min?: number;
  readonly max?: number;
}

export interface NumberSchema extends Base {
  readonly kind: 'number';
  readonly min?: number;
  readonly max?: number;
}

export interface BoolSchema extends Base {
  readonly kind: 'bool';
}

export interface DurationSchema extends Base {
  readonly kind: 'duration';
  /** `istio`: Go/protobuf syntax ("1.5s", "1h30m"); `gateway`: GEP-2257 ("10s", "1h30m", "500ms"). */
  readonly format: 'istio' | 'gateway';
  /** Smallest allowed value in milliseconds (Istio: "MUST be >= 1ms"). */
  readonly minMs?: number;
}

export interface EnumSchema extends Base {
  readonly kind: 'enum';
  readonly values: readonly (string | number)[];
  readonly caseInsensitive?: boolean;
  /** `warning` for lists where the reference implementation drops unknown values silently. */
  readonly severity?: Severity;
  /** Appended to the message after the expected values. */
  readonly note?: string;
}

export interface RegexSchema extends Base {
  readonly kind: 'regex';
  /** Literal values accepted without compiling (Istio header match `regex: "*"` means present). */
  readonly allow?: readonly string[];
}

export interface IntOrStringSchema extends Base {
  readonly kind: 'intOrString';
  readonly min?: number;
  readonly max?: number;
}

export interface AnySchema extends Base {
  readonly kind: 'any';
}

/** At most one (or exactly one) of the named fields may be set. */
export interface OneOfGroup {
  readonly fields: readonly string[];
  readonly mode: 'atMostOne' | 'exactlyOne';
}

export interface ObjectSchema extends Base {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, Schema>>;
  readonly oneOf?: readonly OneOfGroup[];
  /** Unknown fields are accepted silently (metadata, status, Pod spec). */
  readonly open?: boolean;
  /**
   * Protobuf-backed object (Istio spec): `per_try_timeout` is accepted for `perTryTimeout`
   * here and in every object below it, as protobuf JSON parsing does.
   */
  readonly protoNames?: boolean;
}

export interface MapSchema extends Base {
  readonly kind: 'map';
  readonly values: Schema;
  /** Checks each key (e.g. lowercase header names); path is the entry's path. */
  readonly keyCheck?: (key: string, path: string, ctx: CheckContext) => void;
}

export interface ArraySchema extends Base {
  readonly kind: 'array';
  readonly items: Schema;
  readonly minItems?: number;
  readonly maxItems?: number;
}

export type Schema =
  | StringSchema
  | IntSchema
  | NumberSchema
  | BoolSchema
  | DurationSchema
  | EnumSchema
  | RegexSchema
  | IntOrStringSchema
  | AnySchema
  | ObjectSchema
  | MapSchema
  | ArraySchema;

type Opts<S> = Omit<S, 'kind'>;

/** A string. */
export const str = (o: Opts<StringSchema> = {}): StringSchema => ({ kind: 'string', ...o });
/** An integer, optionally within [min, max]. */
export const int = (o: Opts<IntSchema> = {}): IntSchema => ({ kind: 'int', ...o });
/** Any JSON number. */
export const num = (o: Opts<NumberSchema> = {}): NumberSchema => ({ kind: 'number', ...o });
/** A boolean. */
export const bool = (o: Opts<BoolSchema> = {}): BoolSchema => ({ kind: 'bool', ...o });
/** An Istio (protobuf / Go syntax) duration string. */
export const dur = (o: Omit<Opts<DurationSchema>, 'format'> = {}): DurationSchema => ({ kind: 'duration', format: 'istio', ...o });
/** A Gateway API (GEP-2257) duration string. */
export const gwDur = (o: Omit<Opts<DurationSchema>, 'format'> = {}): DurationSchema => ({ kind: 'duration', format: 'gateway', ...o });
/** One of a fixed list of values (strings or numbers). */
export const enm = (values: readonly (string | number)[], o: Omit<Opts<EnumSchema>, 'values'> = {}): EnumSchema => ({ kind: 'enum', values, ...o });
/** An RE2 regular expression string. */
export const regex = (o: Opts<RegexSchema> = {}): RegexSchema => ({ kind: 'regex', ...o });
/** Kubernetes IntOrString (Service targetPort). */
export const intOrStr = (o: Opts<IntOrStringSchema> = {}): IntOrStringSchema => ({ kind: 'intOrString', ...o });
/** Anything (not checked). */
export const any = (o: Opts<AnySchema> = {}): AnySchema => ({ kind: 'any', ...o });
/** An object with known fields. */
export const obj = (fields: Readonly<Record<string, Schema>>, o: Omit<Opts<ObjectSchema>, 'fields'> = {}): ObjectSchema => ({ kind: 'object', fields, ...o });
/** A map with string keys. */
export const map = (values: Schema, o: Omit<Opts<MapSchema>, 'values'> = {}): MapSchema => ({ kind: 'map', values, ...o });
/** A list. */
export const arr = (items: Schema, o: Omit<Opts<ArraySchema>, 'items'> = {}): ArraySchema => ({ kind: 'array', items, ...o });
/** map<string, string> (labels, selectors). */
export const strMap = (o: Omit<Opts<MapSchema>, 'values'> = {}): MapSchema => map(str(), o);
/** A list of strings. */
export const strList = (o: Omit<Opts<ArraySchema>, 'items'> = {}): ArraySchema => arr(str(), o);

/** Marks a schema as a required field. */
export function req<S extends Schema>(s: S): S {
  return { ...s, required: true };
}

/** Marks a schema as a deprecated field (warning when used). */
export function deprecated<S extends Schema>(s: S, hint: string): S {
  return { ...s, deprecated: hint };
}

/** Adds a custom check to a schema. */
export function withCheck<S extends Schema>(s: S, check: Check): S {
  const prev = s.check;
  return {
    ...s,
    check: prev
      ? (v: unknown, p: string, c: CheckContext) => {
          prev(v, p, c);
          check(v, p, c);
        }
      : check,
  };
}

/** `{fields, mode: 'atMostOne'}`. */
export const atMostOne = (...fields: string[]): OneOfGroup => ({ fields, mode: 'atMostOne' });
/** `{fields, mode: 'exactlyOne'}`. */
export const exactlyOne = (...fields: string[]): OneOfGroup => ({ fields, mode: 'exactlyOne' });
