/**
 * `%START_TIME(...)%` formats: a strftime subset (C++ `std::put_time` as Envoy uses it) plus
 * Envoy's extras `%s` (epoch seconds) and `%f` / `%1f`…`%9f` (fractional seconds, default 9
 * digits). The format is parsed once; rendering caches the second-dependent text per second,
 * so a request only formats its fractional digits.
 */

/** Renders a timestamp: `ms` since the epoch, `subMsNanos` the nanoseconds below the millisecond. */
export interface TimeFormatter {
  format(ms: number, subMsNanos: number): string;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAYS_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Broken-down time of one second. */
interface Tm {
  readonly y: number; readonly mo: number; readonly d: number; readonly h: number; readonly mi: number;
  readonly s: number; readonly wd: number; readonly yd: number; readonly epoch: number; readonly offsetMin: number;
}

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const sp2 = (n: number): string => (n < 10 ? ` ${n}` : String(n));
const p3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

function tmOf(sec: number, local: boolean): Tm {
  const d = new Date(sec * 1000);
  if (!local) {
    const start = Date.UTC(d.getUTCFullYear(), 0, 1);
    return {
      y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(),
      s: d.getUTCSeconds(), wd: d.getUTCDay(), yd: Math.floor((sec * 1000 - start) / 86_400_000), epoch: sec, offsetMin: 0,
    };
  }
  const start = new Date(d.getFullYear(), 0, 1).getTime();
  return {
    y: d.getFullYear(), mo: d.getMonth(), d: d.getDate(), h: d.getHours(), mi: d.getMinutes(),
    s: d.getSeconds(), wd: d.getDay(), yd: Math.floor((sec * 1000 - start) / 86_400_000), epoch: sec, offsetMin: -d.getTimezoneOffset(),
  };
}

function offset(t: Tm): string {
  const m = Math.abs(t.offsetMin);
  return `${t.offsetMin < 0 ? '-' : '+'}${p2(Math.floor(m / 60))}${p2(m % 60)}`;
}

const hour12 = (h: number): number => (h % 12 === 0 ? 12 : h % 12);

/** Second-level specifiers (everything except `%f`). */
const SPECIFIERS: Readonly<Record<string, (t: Tm) => string>> = {
  Y: (t) => String(t.y),
  C: (t) => p2(Math.floor(t.y / 100)),
  y: (t) => p2(t.y % 100),
  m: (t) => p2(t.mo + 1),
  d: (t) => p2(t.d),
  e: (t) => sp2(t.d),
  H: (t) => p2(t.h),
  I: (t) => p2(hour12(t.h)),
  k: (t) => sp2(t.h),
  l: (t) => sp2(hour12(t.h)),
  M: (t) => p2(t.mi),
  S: (t) => p2(t.s),
  p: (t) => (t.h < 12 ? 'AM' : 'PM'),
  j: (t) => p3(t.yd + 1),
  a: (t) => DAYS[t.wd]!,
  A: (t) => DAYS_LONG[t.wd]!,
  b: (t) => MONTHS[t.mo]!,
  h: (t) => MONTHS[t.mo]!,
  B: (t) => MONTHS_LONG[t.mo]!,
  u: (t) => String(t.wd === 0 ? 7 : t.wd),
  w: (t) => String(t.wd),
  z: (t) => offset(t),
  Z: (t) => (t.offsetMin === 0 ? 'UTC' : offset(t)),
  s: (t) => String(t.epoch),
  F: (t) => `${t.y}-${p2(t.mo + 1)}-${p2(t.d)}`,
  D: (t) => `${p2(t.mo + 1)}/${p2(t.d)}/${p2(t.y % 100)}`,
  T: (t) => `${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}`,
  R: (t) => `${p2(t.h)}:${p2(t.mi)}`,
  r: (t) => `${p2(hour12(t.h))}:${p2(t.mi)}:${p2(t.s)} ${t.h < 12 ? 'AM' : 'PM'}`,
  c: (t) => `${DAYS[t.wd]} ${MONTHS[t.mo]} ${sp2(t.d)} ${p2(t.h)}:${p2(t.mi)}:${p2(t.s)} ${t.y}`,
  x: (t) => `${p2(t.mo + 1)}/${p2(t.d)}/${p2(t.y % 100)}`,
  X: (t) => `${p2(t.h)}:${p2(t.mi)}:${p2(t.s)}`,
  n: () => '\n',
  t: () => '\t',
  '%': () => '%',
};

/** Characters accepted after `%` (for error messages and docs). */
export const STRFTIME_SPECIFIERS: readonly string[] = Object.freeze([...Object.keys(SPECIFIERS), 'f', '1f…9f']);

type Piece = string | ((t: Tm) => string);

/** Thrown for a bad specifier; `offset` is its position inside the format. */
export class TimeFormatError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

/**
 * Compile a START_TIME format. `undefined` / empty gives Envoy's default
 * (`2016-04-15T20:17:00.310Z`, UTC with milliseconds). `local` renders in the local time zone
 * (START_TIME_LOCAL).
 */
export function compileTimeFormat(fmt: string | undefined, local = false): TimeFormatter {
  if (fmt === undefined || fmt === '') return local ? compileTimeFormat('%Y-%m-%dT%H:%M:%S.%3f%z', true) : ISO_DEFAULT;
  // Split into second-level chunks separated by fractional specifiers.
  const chunks: Piece[][] = [[]];
  const fracDigits: number[] = [];
  let lit = '';
  const flush = (): void => { if (lit) { chunks[chunks.length - 1]!.push(lit); lit = ''; } };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c !== '%') { lit += c; continue; }
    const n = fmt[i + 1];
    if (n === undefined) throw new TimeFormatError('Invalid time format: "%" at the end must be written "%%"', i);
    if (n === 'f') { flush(); fracDigits.push(9); chunks.push([]); i++; continue; }
    if (n >= '1' && n <= '9' && fmt[i + 2] === 'f') { flush(); fracDigits.push(Number(n)); chunks.push([]); i += 2; continue; }
    // %E and %O modifiers select alternative representations; the C locale ignores them.
    let spec = n;
    let skip = 1;
    if ((n === 'E' || n === 'O') && fmt[i + 2] !== undefined) { spec = fmt[i + 2]!; skip = 2; }
    const fn = SPECIFIERS[spec];
    if (fn === undefined) throw new TimeFormatError(`Invalid time format: unknown specifier "%${spec}"`, i);
    flush();
    if (spec === '%' || spec === 'n' || spec === 't') lit += fn(undefined as unknown as Tm);
    else chunks[chunks.length - 1]!.push(fn);
    i += skip;
  }
  flush();
  return new CachedTimeFormatter(chunks, fracDigits, local);
}

class CachedTimeFormatter implements TimeFormatter {
  readonly #chunks: readonly (readonly Piece[])[];
  readonly #frac: readonly number[];
  readonly #local: boolean;
  #sec = Number.NaN;
  #rendered: string[] = [];

  constructor(chunks: Piece[][], frac: number[], local: boolean) {
    this.#chunks = chunks;
    this.#frac = frac;
    this.#local = local;
  }

  format(ms: number, subMsNanos: number): string {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.#sec) {
      const t = tmOf(sec, this.#local);
      this.#rendered = this.#chunks.map((ps) => {
        let s = '';
        for (const p of ps) s += typeof p === 'string' ? p : p(t);
        return s;
      });
      this.#sec = sec;
    }
    const r = this.#rendered;
    if (this.#frac.length === 0) return r[0]!;
    const nanos = (ms - sec * 1000) * 1_000_000 + subMsNanos;
    let out = r[0]!;
    for (let k = 0; k < this.#frac.length; k++) out += fraction(nanos, this.#frac[k]!) + r[k + 1]!;
    return out;
  }
}

/** First `digits` digits of a 9-digit nanosecond fraction (truncated, like Envoy). */
function fraction(nanos: number, digits: number): string {
  const s = String(Math.floor(nanos));
  return ('000000000'.slice(s.length) + s).slice(0, digits);
}

/** `2016-04-15T20:17:00.310Z`: the date cached per second, the whole string per millisecond. */
class IsoFormatter implements TimeFormatter {
  #sec = Number.NaN;
  #prefix = '';
  #ms = Number.NaN;
  #last = '';

  format(ms: number): string {
    if (ms === this.#ms) return this.#last; // many requests start in the same millisecond at load
    this.#ms = ms;
    this.#last = this.#render(ms);
    return this.#last;
  }

  #render(ms: number): string {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.#sec) {
      this.#sec = sec;
      this.#prefix = new Date(sec * 1000).toISOString().slice(0, 20);
    }
    return `${this.#prefix}${p3(ms - sec * 1000)}Z`;
  }
}

const ISO_DEFAULT: TimeFormatter = new IsoFormatter();
