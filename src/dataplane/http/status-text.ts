import { STATUS_CODES } from 'node:http';

/** Reason phrases (RFC 9110 §15), indexed by status code. */
export const STATUS_TEXT: readonly (string | undefined)[] = (() => {
  const a: (string | undefined)[] = [];
  for (const [k, v] of Object.entries(STATUS_CODES)) a[Number(k)] = v;
  return a;
})();
