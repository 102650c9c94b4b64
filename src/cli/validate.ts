/** `portico validate PATH...`: every problem, one per line; exit 1 on any error. */
import { formatDiagnostic, type Diagnostic } from '../errors/diagnostic.js';
import { loadPaths } from '../config/sources/file-loader.js';
import { translate } from '../config/translate/index.js';
import { loadMeshConfig } from '../config/mesh/mesh-config.js';
import { identityFrom } from './run.js';
import { UsageError } from './flags.js';

function order(a: Diagnostic, b: Diagnostic): number {
  const fa = a.origin?.file ?? '';
  const fb = b.origin?.file ?? '';
  if (fa !== fb) return fa < fb ? -1 : 1;
  return (a.origin?.line ?? 0) - (b.origin?.line ?? 0) || (a.origin?.col ?? 0) - (b.origin?.col ?? 0);
}

export async function validateCommand(v: Record<string, unknown>, paths: string[]): Promise<number> {
  const meshFile = v['mesh-config'] as string | undefined;
  if (paths.length === 0 && meshFile === undefined) throw new UsageError('Missing PATH: give one or more files or folders (or --mesh-config FILE)');
  // --mesh-config: its problems are listed like any other (file:line:col, field path).
  const meshResult = meshFile !== undefined ? loadMeshConfig(meshFile) : undefined;
  const loaded = paths.length > 0 ? await loadPaths(paths) : { resources: [], diagnostics: [], files: [] };
  const t = translate(loaded.resources, identityFrom(v), meshResult?.mesh);
  const all = [...(meshResult?.diagnostics ?? []), ...loaded.diagnostics, ...t.diagnostics].sort(order);
  for (const d of all) process.stdout.write(`${formatDiagnostic(d)}\n`);
  const errors = all.filter((d) => d.severity === 'error').length;
  const warnings = all.length - errors;
  process.stderr.write(`${loaded.resources.length} resources in ${loaded.files.length} files: ${errors} errors, ${warnings} warnings\n`);
  return errors > 0 ? 1 : 0;
}
