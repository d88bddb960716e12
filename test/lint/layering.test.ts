// The layering rule (eslint.config.js) must catch what it is for: each case is a file that
// imports across a forbidden boundary and must fail with "Bad layering", and the allowed
// imports must pass. Then the real tree must be clean.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.message.includes('Bad layering')).map((m) => m.message);
}

const violations: [file: string, code: string][] = [
  ['electron/core/jobs/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
  ['electron/core/jobs/x.ts', "import { startHost } from '../../host/browser-host.ts';\nexport const a = startHost;\n"],
  ['electron/core/app/x.ts', "import { bridgeContract } from '../../main/ipc-bridge.ts';\nexport const a = bridgeContract;\n"],
  ['electron/core/x.ts', "import { App } from '../../renderer/app.tsx';\nexport const a = App;\n"],
  ['electron/core/x.ts', "import type { X } from '../cli/main.ts';\nexport type A = X;\n"],
  ['electron/worker/x.ts', "import { utilityProcess } from 'electron';\nexport const a = utilityProcess;\n"],
  ['electron/host/x.ts', "import { bridgeContract } from '../main/ipc-bridge.ts';\nexport const a = bridgeContract;\n"],
  ['electron/host/x.ts', "import { ipcMain } from 'electron';\nexport const a = ipcMain;\n"],
  ['electron/preload/x.ts', "import { createAppService } from '../core/app/app-service.ts';\nexport const a = createAppService;\n"],
  ['electron/preload/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n"],
  ['electron/main/x.ts', "import { App } from '../../renderer/app.tsx';\nexport const a = App;\n"],
  ['electron/cli/x.ts', "import { BrowserWindow } from 'electron';\nexport const a = BrowserWindow;\n"],
  ['renderer/x.tsx', "import { commandNames } from '../electron/core/contract.ts';\nexport const a = commandNames;\n"],
  ['renderer/x.tsx', "import type { Engine } from '../electron/core/app/engine.ts';\nexport type A = Engine;\n"],
  ['renderer/x.tsx', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n"],
  ['renderer/x.tsx', "import fs from 'node:fs';\nexport const a = fs;\n"],
];

for (const [file, code] of violations) {
  test(`Bad layering: ${file} ← ${/from '([^']+)'/.exec(code)?.[1]}`, async () => {
    const errors = await layeringErrors(file, code);
    assert.ok(errors.length > 0, `expected a Bad layering error for ${file}:\n${code}`);
    assert.ok(errors.every((m) => /Bad layering: \w+ /.test(m)));
  });
}

const allowed: [file: string, code: string][] = [
  ['renderer/x.tsx', "import type { Settings } from '../electron/core/contract.ts';\nexport type A = Settings;\n"],
  ['electron/preload/x.ts', "import { contextBridge } from 'electron';\nimport { createContractClient } from '../core/contract.ts';\nexport const a = [contextBridge, createContractClient];\n"],
  ['electron/main/x.ts', "import { app } from 'electron';\nimport { createAppService } from '../core/app/app-service.ts';\nexport const a = [app, createAppService];\n"],
  ['electron/host/x.ts', "import { createAppService } from '../core/app/app-service.ts';\nexport const a = createAppService;\n"],
];

for (const [file, code] of allowed) {
  test(`allowed: ${file} ← ${[...code.matchAll(/from '([^']+)'/g)].map((m) => m[1]).join(', ')}`, async () => {
    assert.deepEqual(await layeringErrors(file, code), []);
  });
}

test('the source tree has no layering violations', async () => {
  const results = await eslint.lintFiles(['electron', 'renderer']);
  const bad = results.flatMap((r) => r.messages.filter((m) => m.message.includes('Bad layering')).map((m) => `${path.relative(root, r.filePath)}:${m.line} ${m.message}`));
  assert.deepEqual(bad, []);
});
