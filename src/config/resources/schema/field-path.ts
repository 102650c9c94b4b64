/**
 * Field paths as used in diagnostics: `spec.http[0].route[1].destination.host`.
 * Map keys that are not plain names (label keys with dots, JWT claim keys) are written in
 * brackets as JSON strings: `metadata.labels["app.kubernetes.io/name"]`.
 */

/** One step of a field path: a field or map key (string) or a list index (number). */
export type PathToken = string | number;

const PLAIN_KEY = /^[^.[\]"\s]+$/;

/** `base.key`, or `base["key"]` when the key is not a plain name. */
export function childPath(base: string, key: string): string {
  if (PLAIN_KEY.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** `base[i]`. */
export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/**
 * Splits a field path into tokens; returns undefined when the path is malformed.
 * `a.b[2]["x.y"]` → `['a', 'b', 2, 'x.y']`; the empty path is the object itself.
 */
export function parseFieldPath(path: string): PathToken[] | undefined {
  const out: PathToken[] = [];
  let i = 0;
  const n = path.length;
  while (i < n) {
    const c = path[i];
    if (c === '[') {
      if (path[i + 1] === '"') {
        // JSON string key: find the closing quote that is not escaped.
        let j = i + 2;
        while (j < n && path[j] !== '"') j += path[j] === '\\' ? 2 : 1;
        if (path[j + 1] !== ']') return undefined;
        try {
          out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        } catch {
          return undefined;
        }
        i = j + 2;
      } else {
        const j = path.indexOf(']', i);
        if (j < 0) return undefined;
        const digits = path.slice(i + 1, j);
        if (!/^\d+$/.test(digits)) return undefined;
        out.push(Number(digits));
        i = j + 1;
      }
    } else if (c === '.') {
      if (i === 0 || i === n - 1) return undefined;
      i++;
    } else {
      let j = i;
      while (j < n && path[j] !== '.' && path[j] !== '[') j++;
      out.push(path.slice(i, j));
      i = j;
    }
  }
  return out;
}

/**
 * The last two named steps of a path, for messages: `spec.trafficPolicy.loadBalancer.simple`
 * → `loadBalancer.simple`, `spec.http[0].timeout` → `http[0].timeout`.
 */
export function shortLabel(path: string): string {
  const tokens = parseFieldPath(path);
  if (!tokens || tokens.length === 0) return path;
  const groups: string[] = [];
  for (const t of tokens) {
    if (typeof t === 'number' && groups.length > 0) groups[groups.length - 1] += `[${t}]`;
    else groups.push(typeof t === 'number' ? `[${t}]` : PLAIN_KEY.test(t) ? t : `[${JSON.stringify(t)}]`);
  }
  const last = groups.slice(-2);
  return last.map((g, k) => (k > 0 && g.startsWith('[') ? g : (k > 0 ? '.' : '') + g)).join('');
}

/** protobuf JSON name of a proto field name: `per_try_timeout` → `perTryTimeout`, `consecutive_5xx_errors` → `consecutive5xxErrors`. */
export function protoJsonName(name: string): string {
  let out = '';
  let upper = false;
  for (const ch of name) {
    if (ch === '_') {
      upper = true;
    } else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return out;
}
