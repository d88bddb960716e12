// Doyensec's electronegativity scan of the Electron code, with no finding left unexplained.
// Its CLI (dist/index.js) does not run here: it calls commander's pre-v7 API and npm hoists
// this project's commander 15 over it. So the scan runs through its library entry point, in a
// child process where `got` is stubbed: the scanner would otherwise try to download
// translations and Electron's release list (from hosts outside this machine) on every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/servers.ts';
import { record } from './reliability-kit.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const electronVersion = (JSON.parse(await readFile(join(root, 'node_modules/electron/package.json'), 'utf8').catch(() => '{"version":"45.5.0"}')) as { version: string }).version;

const scanner = `
const Module = require('module');
const load = Module._load;
Module._load = function (request) {
  if (request === 'got') return () => Promise.reject(new Error('offline: the scan makes no network requests'));
  return load.apply(this, arguments);
};
const run = require(process.argv[1]);
run({ input: process.argv[2], output: process.argv[3], isSarif: false, customScan: [], excludeFromScan: [], isRelative: true,
  isVerbose: false, parserPlugins: [], electronVersionOverride: process.argv[4] }, false)
  .then(() => { process.exitCode = 0; }, (error) => { console.error(error && error.message); process.exit(1); });
`;

/**
 * Every finding the scan may report, why it is not a problem, and a check that the reason still holds.
 * A finding not in this table fails the test: explain it here (or fix the code).
 */
const explained: Record<string, { why: string; holds: () => Promise<boolean> }> = {
  // The scanner looks for a CSP in <meta> tags or in session.webRequest.onHeadersReceived. Ours is an
  // HTTP header on every response of the app:// protocol handler that serves the packaged UI.
  CSP_GLOBAL_CHECK: {
    why: 'CSP is sent as a header by electron/main/app-protocol.ts',
    holds: async () => /headers\.set\('Content-Security-Policy'/.test(await src('electron/main/app-protocol.ts')),
  },
  // Middle-click (auxclick) can only open a new window or navigate; electron/main/security.ts denies every
  // window.open through setWindowOpenHandler and blocks will-navigate away from app://reelpack/.
  AUXCLICK_JS_CHECK: {
    why: 'new windows denied and navigation limited in electron/main/security.ts',
    holds: async () => {
      const text = await src('electron/main/security.ts');
      return /setWindowOpenHandler\(\(\) => \(\{ action: 'deny' \}\)\)/.test(text) && /'will-navigate'/.test(text);
    },
  },
  // "Review the use of preload scripts": reviewed. The preload only exposes the contract client through
  // contextBridge, and the window runs with contextIsolation, sandbox and no nodeIntegration.
  PRELOAD_JS_CHECK: {
    why: 'preload exposes only the contract through contextBridge; isolated, sandboxed window',
    holds: async () => {
      const main = await src('electron/main/main.ts');
      const preload = await src('electron/preload/preload.ts');
      return /contextIsolation: true/.test(main) && /sandbox: true/.test(main) && /nodeIntegration: false/.test(main)
        && /contextBridge\.exposeInMainWorld\(/.test(preload) && (preload.match(/exposeInMainWorld\(/g) ?? []).length === 1;
    },
  },
  // The remote module was removed from Electron in v14; the scan only reports it when it cannot tell the version.
  REMOTE_MODULE_JS_CHECK: {
    why: `no remote module in Electron ${electronVersion}`,
    holds: async () => Number(electronVersion.split('.')[0]) >= 14,
  },
};

async function src(path: string): Promise<string> {
  return readFile(join(root, path), 'utf8');
}

const library = join(root, 'node_modules/@doyensec/electronegativity');
const skip = !existsSync(join(root, 'electron/main')) ? 'no electron/main to scan' : !existsSync(library) ? '@doyensec/electronegativity is not installed' : false;

test('electronegativity finds nothing unexplained in the Electron code', { skip, timeout: 60_000 }, async () => {
  const dir = await tempDir('reelpack-eneg-');
  try {
    const csv = join(dir.path, 'findings.csv');
    await promisify(execFile)(process.execPath, ['-e', scanner, library, join(root, 'electron'), csv, electronVersion], { cwd: root, timeout: 50_000 });
    const text = await readFile(csv, 'utf8');
    assert.match(text, /issue, severity|\/wiki\//, 'the scan wrote no report');
    // One finding a line; the check's id is in its wiki URL at the end of the line.
    const findings = [...text.matchAll(/^(.*)\/wiki\/([A-Z_]+)\s*$/gm)].map((m) => ({ id: m[2]!, line: m[0] }));
    const unexplained = findings.filter((f) => !explained[f.id]);
    assert.deepEqual(unexplained.map((f) => f.line), [], 'findings without an explanation in this test');
    for (const f of findings) assert.ok(await explained[f.id]!.holds(), `the explanation for ${f.id} no longer holds: ${explained[f.id]!.why}`);
    process.stdout.write(`# electronegativity: ${findings.length} findings, all explained (${[...new Set(findings.map((f) => f.id))].join(', ') || 'none'})\n`);
    record('electronegativity', { hostile: 0 });
  } finally {
    await dir.remove();
  }
});
