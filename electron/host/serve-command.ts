// `reelpack serve [--port n] [--config-dir dir]`: starts the browser host and prints its address.
// The CLI calls runServeCommand; this file also runs on its own (tests spawn it).
import { parseArgs } from 'node:util';
import { startHost } from './browser-host.ts';

export async function runServeCommand(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, 'config-dir': { type: 'string' }, 'ui-dir': { type: 'string' } },
    strict: true,
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw Object.assign(new Error(`bad --port: ${values.port}`), { code: 'USAGE' });
  const host = await startHost({ port, configDir: values['config-dir'], uiDir: values['ui-dir'] });
  out(`Reelpack is serving on 127.0.0.1 only. Open:`);
  out(host.url);
  const stop = () => {
    void host.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.main) {
  runServeCommand(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`reelpack serve: ${(e as Error).message}\n`);
    process.exit((e as { code?: string }).code === 'USAGE' ? 2 : 1);
  });
}
