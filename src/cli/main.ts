#!/usr/bin/env node
/**
 * `portico` command line: run, validate, explain, echo, quickstart. Flags are parsed strictly:
 * an unknown flag or a bad value is a one-line error and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runCommand } from './run.js';
import { validateCommand } from './validate.js';
import { explainCommand } from './explain.js';
import { startEcho } from './echo.js';
import { quickstartCommand } from './quickstart.js';
import { intFlag, UsageError } from './flags.js';


interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly positionals?: boolean;
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

const COMMON_RUN = {
  config: { type: 'string', multiple: true, short: 'c' },
  'admin-port': { type: 'string' },
  'admin-address': { type: 'string' },
  bind: { type: 'string' },
  namespace: { type: 'string' },
  labels: { type: 'string' },
  'ingress-port': { type: 'string' },
  'ingress-https-port': { type: 'string' },
  'trusted-proxies': { type: 'string' },
  'forward-client-cert': { type: 'string' },
  'cert-expiry-warning-days': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  'drain-delay': { type: 'string' },
  workers: { type: 'string' },
  'no-access-log': { type: 'boolean' },
  'mesh-config': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMANDS: Record<string, Command> = {
  run: {
    summary: 'Run the gateway on a config file or folder (watched for changes)',
    usage: `portico run --config PATH [--config PATH ...] [options]

  --config, -c PATH     YAML/JSON file or folder (multi-document); repeatable
  --admin-port N        admin API port on 127.0.0.1 (default 15000; 0 = pick a free port)
  --admin-address ADDR  admin bind address (default 127.0.0.1)
  --bind ADDR           address listeners bind to (default 0.0.0.0; :: for IPv6)
  --namespace NS        namespace of this gateway workload (default istio-system)
  --labels k=v,...      pod labels of this gateway workload (default istio=ingressgateway)
  --ingress-port N      port Kubernetes Ingress resources are served on (default 80)
  --ingress-https-port N  port Ingress spec.tls hosts are served on with TLS (default 443)
  --trusted-proxies N   proxies in front whose X-Forwarded-For/-Proto are trusted, e.g. 1
                        behind a TLS-offloading load balancer (default 0: ignore and overwrite)
  --forward-client-cert MODE  X-Forwarded-Client-Cert policy: SANITIZE_SET (default), SANITIZE,
                        FORWARD_ONLY, APPEND_FORWARD, ALWAYS_FORWARD_ONLY (docs/tls.md)
  --cert-expiry-warning-days N  warn this many days before a certificate expires (default 30)
  --workers N           worker processes sharing the listeners (default: CPUs available,
                        cgroup quota included); 1 = a single process, no primary
  --drain-delay DUR     after SIGTERM keep accepting this long, /ready already 503, so load
                        balancers notice (default 0s; 5s behind a Kubernetes Service)
  --max-connections N   most open downstream connections per listener (default 100000)
  --drain-timeout DUR   then how long in-flight requests may take (default 5s)
  --mesh-config FILE    Istio MeshConfig: accessLogFile, accessLogEncoding (TEXT|JSON),
                        accessLogFormat, extensionProviders, defaultProviders (docs/observability.md)
  --no-access-log       disable every access log (default: Istio's TEXT line on stdout)

  Signals: SIGTERM/SIGINT drain and exit 0; SIGHUP re-reads the config and, with workers,
  replaces them one by one without dropping connections (docs/operations.md).`,
    options: COMMON_RUN,
    run: (v) => runCommand(v),
  },
  validate: {
    summary: 'Check config files; print every problem as file:line:col  Kind/ns/name  field  message',
    usage: `portico validate PATH... [--namespace NS] [--labels k=v,...] [--mesh-config FILE]

  --mesh-config FILE  also check an Istio MeshConfig (PATH may then be omitted)

  Exit 0 when the config is valid (warnings allowed), 1 when any error was found.`,
    options: { namespace: { type: 'string' }, labels: { type: 'string' }, 'mesh-config': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    positionals: true,
    run: (v, p) => validateCommand(v, p),
  },
  explain: {
    summary: 'Show how a request would be routed, and why other routes did not match',
    usage: `portico explain --config PATH 'METHOD URL' [-H 'name: value' ...] [--port N]

  Example: portico explain --config ./cfg 'GET http://shop.example.com/cart?x=1' -H 'x-user: a'
  --port N  listener port the request arrives on (default: the URL's port, else the only listener)`,
    options: {
      config: { type: 'string', multiple: true, short: 'c' },
      header: { type: 'string', multiple: true, short: 'H' },
      port: { type: 'string' },
      namespace: { type: 'string' },
      labels: { type: 'string' },
      'ingress-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    positionals: true,
    run: (v, p) => explainCommand(v, p),
  },
  echo: {
    summary: 'Run the demo/test backend that answers every request with JSON describing it',
    usage: `portico echo --port N [--name NAME] [--host ADDR]`,
    options: { port: { type: 'string' }, name: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    run: async (v) => {
      const port = intFlag(v, 'port', 0, 0, 65535);
      const name = (v.name as string | undefined) ?? 'echo';
      const s = await startEcho({ port, name, host: (v.host as string | undefined) ?? '127.0.0.1' });
      process.stdout.write(`portico echo "${name}" listening on http://${(v.host as string | undefined) ?? '127.0.0.1'}:${s.port}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { void s.close().then(resolve); };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      return 0;
    },
  },
  quickstart: {
    summary: 'Start the gateway on the bundled demo config with its two demo backends (npm start)',
    usage: `portico quickstart [--port N] [--admin-port N]`,
    options: { port: { type: 'string' }, 'admin-port': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    run: (v) => quickstartCommand(v),
  },
};

function topHelp(): string {
  const lines = ['Portico — a service-mesh gateway for Istio, Gateway API and Ingress configuration', '', 'Usage: portico <command> [options]', '', 'Commands:'];
  for (const [n, c] of Object.entries(COMMANDS)) lines.push(`  ${n.padEnd(11)} ${c.summary}`);
  lines.push('', 'Run "portico <command> --help" for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${topHelp()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('portico 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`portico: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: cmd.positionals === true, strict: true });
    values = parsed.values as Record<string, unknown>;
    positionals = parsed.positionals;
  } catch (e) {
    process.stderr.write(`portico ${name}: ${(e as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(values, positionals);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`portico ${name}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`portico ${name}: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
const invokedAsBin = process.argv[1]?.endsWith('/portico') || process.argv[1]?.endsWith('main.js') || process.argv[1]?.endsWith('main.ts');
if (isMain || invokedAsBin) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`portico: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
