/** "Did you mean" helpers for misspelt field names and enum values. */

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), so
 * `destinaton` → `destination` is 1 and `potr` → `port` is 1.
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/**
 * The candidate closest to `word` within `maxDistance` edits (case-insensitive
 * comparison first: `round_robin` → `ROUND_ROBIN`); the first one wins a tie. Failing that,
 * the only candidate that contains the word.
 */
export function closest(word: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    if (c.toLowerCase() === lower) return c;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  // Very short words would match almost anything: at most one edit up to 3 characters.
  const allowed = word.length <= 3 ? Math.min(1, maxDistance) : maxDistance;
  if (best !== undefined && bestDist <= allowed && bestDist < word.length) return best;
  // A word that is part of exactly one candidate (Ingress `Prefix` for Gateway API `PathPrefix`).
  if (lower.length >= 4) {
    const containing = candidates.filter((c) => c.toLowerCase().includes(lower));
    if (containing.length === 1) return containing[0];
  }
  return undefined;
}

/** `did you mean "x"?` or undefined. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean "${c}"?`;
}
