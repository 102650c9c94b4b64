/** `portico validate PATH...`: every problem, one per line; exit 1 on any error. */
import { formatDiagnostic, type Diagnostic } from '../errors/diagnostic.js';
import { loadPaths } from '../config/sources/file-loader.js';
import { translate } from '../config/translate/index.js';
import { identityFrom } from './run.js';
import { UsageError } from './flags.js';

function order(a: Diagnostic, b: Diagnostic): number {
  const fa = a.origin?.file ?? '';
  const fb = b.origin?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.origin?.line ?? 0) - (b.origin?.line ?? 0) || (a.origin?.col ?? 0) - (b.origin?.col ?? 0);
}

export async function validateCommand(v: Record<string, unknown>, paths: string[]): Promise<number> {
  if (paths.length === 0) throw new UsageError('Missing PATH: give one or more files or folders');
  const loaded = await loadPaths(paths);
  const t = translate(loaded.resources, identityFrom(v));
  const all = [...loaded.diagnostics, ...t.diagnostics].sort(order);
  for (const d of all) process.stdout.write(`${formatDiagnostic(d)}\n`);
  const errors = all.filter((d) => d.severity === 'error').length;
  const warnings = all.length - errors;
  process.stderr.write(`${loaded.resources.length} resources in ${loaded.files.length} files: ${errors} errors, ${warnings} warnings\n`);
  return errors > 0 ? 1 : 0;
}
