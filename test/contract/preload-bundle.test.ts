// The sandboxed preload must be one self-contained CommonJS file that exposes exactly the
// contract. Electron cannot run here, so the bundle is evaluated in a vm with a stand-in for
// the `electron` module (contextBridge + ipcRenderer): the only mock, for what cannot run.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'rolldown';
import { commandChannel, commandNames, eventChannel } from '../../electron/core/contract.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('the bundled preload requires only electron and exposes exactly the contract', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reelpack-preload-'));
  try {
    const file = path.join(dir, 'preload.cjs');
    await build({ input: path.join(root, 'electron/preload/preload.ts'), platform: 'node', external: ['electron'], output: { file, format: 'cjs', codeSplitting: false } });
    const code = await readFile(file, 'utf8');
    const required: string[] = [];
    const exposed = new Map<string, Record<string, unknown>>();
    const invoked: string[] = [];
    const listening: string[] = [];
    const fakeElectron = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.set(key, api) },
      ipcRenderer: {
        invoke: async (channel: string) => {
          invoked.push(channel);
          return { ok: true, value: channel };
        },
        on: (channel: string) => listening.push(channel),
        removeListener: () => {},
      },
    };
    const sandbox = {
      module: { exports: {} },
      require: (name: string) => {
        required.push(name);
        if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`);
        return fakeElectron;
      },
    };
    vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
    assert.deepEqual([...new Set(required)], ['electron']);
    assert.deepEqual([...exposed.keys()], ['reelpack']);
    const api = exposed.get('reelpack')!;
    assert.deepEqual(Object.keys(api).sort(), [...commandNames, 'on'].sort());
    for (const name of commandNames) await (api[name] as (a: unknown) => Promise<unknown>)({});
    assert.deepEqual(invoked, commandNames.map(commandChannel));
    (api.on as (n: string, l: () => void) => void)('job', () => {});
    assert.deepEqual(listening, [eventChannel('job')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
