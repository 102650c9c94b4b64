/**
 * Operational log (not the access log): one line per event on stderr,
 * `time level message {fields}`. Never receives secret values.
 */
import type { Logger } from '../runtime/gateway.js';

export function createLogger(out: NodeJS.WritableStream = process.stderr, quiet = false): Logger {
  const line = (level: string, msg: string, fields?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    const f = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    out.write(`${new Date().toISOString()} ${level} ${msg}${f}\n`);
  };
  return {
    info: (m, f) => line('info', m, f),
    warn: (m, f) => line('warn', m, f),
    error: (m, f) => line('error', m, f),
  };
}
