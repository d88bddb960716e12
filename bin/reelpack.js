#!/usr/bin/env node
// Launcher for the `reelpack` command. The CLI is TypeScript run directly by Node >= 24
// (type stripping, the same Node as Electron 45). On an older system Node, re-run this
// command on the Node 24 that `npm install` put in node_modules (npm package `node`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  await import('../electron/cli/main.ts');
} else {
  const bundledNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(bundledNode)) {
    process.stderr.write(`reelpack: needs Node 24 or newer (this is ${process.version}); run "npm install" in the project folder first\n`);
    process.exit(2);
  }
  const child = spawn(bundledNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // The terminal sends Ctrl-C to both processes; let the child decide how to stop.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
}
