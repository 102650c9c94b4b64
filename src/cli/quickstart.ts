/**
 * `portico quickstart` (what `npm start` runs): two demo echo backends plus the gateway on the
 * bundled config/quickstart folder, with the URLs to curl printed at start.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startEcho } from './echo.js';
import { startGateway } from './run.js';
import { intFlag } from './flags.js';

export const QUICKSTART_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/quickstart');

export async function quickstartCommand(v: Record<string, unknown>): Promise<number> {
  const adminPort = intFlag(v, 'admin-port', 15000, 0, 65535);
  // The bundled config points its Endpoints at these two ports.
  const a = await startEcho({ port: 9101, name: 'echo-a' });
  const b = await startEcho({ port: 9102, name: 'echo-b' });
  const h = await startGateway({ config: [QUICKSTART_DIR], 'admin-port': String(adminPort), bind: '127.0.0.1' });
  const base = 'http://127.0.0.1:8080';
  process.stderr.write([
    '',
    'Portico quickstart is running (config: config/quickstart/, backends echo-a :9101 and echo-b :9102)',
    '',
    `  curl ${base}/a                                  # always echo-a (Istio VirtualService)`,
    `  curl ${base}/b                                  # always echo-b`,
    `  curl ${base}/                                   # 80% echo-a, 20% echo-b (weights)`,
    `  curl -H 'x-canary: yes' ${base}/                # header match → echo-b`,
    `  curl -H 'host: shop.example.com' ${base}/cart   # Gateway API HTTPRoute → echo-b`,
    `  curl -i ${base}/old                             # 301 redirect`,
    `  curl -i -H 'host: unknown.test' ${base}/        # 404 NR (no route)`,
    `  curl http://127.0.0.1:${h.adminPort}/config_dump     # admin: resources, status, snapshot`,
    '',
    `  npx portico explain --config config/quickstart 'GET http://shop.example.com:8080/cart'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n'));
  await new Promise<void>((resolve) => {
    const stop = () => { void Promise.all([h.stop(), a.close(), b.close()]).then(() => resolve()); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
