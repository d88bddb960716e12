// The contract is declared once; main (registerContract), the preload (createContractClient)
// and the host (dispatchCommand) are derived from it. These tests prove a missing or extra
// channel fails, errors cross as data, and no layer spells a channel by hand.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AppService } from '../../electron/core/app/app-service.ts';
import {
  assertChannels,
  assertHandlers,
  commandChannel,
  commandChannels,
  commandNames,
  createContractClient,
  dispatchCommand,
  eventChannel,
  eventNames,
  registerContract,
} from '../../electron/core/contract.ts';
import type { CommandName, ContractClient, ContractHandlers, Reply } from '../../electron/core/contract.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A handler object built from the runtime list: each command echoes its name. */
function echoHandlers(): ContractHandlers {
  return Object.fromEntries(commandNames.map((n) => [n, async (args: unknown) => ({ command: n, args })])) as unknown as ContractHandlers;
}

// ---- compile-time checks (npm test runs tsc first; an unused @ts-expect-error fails it) ----
// The app service implements exactly the contract's handlers.
type ServiceImplementsContract = AppService extends ContractHandlers ? true : never;
const serviceImplements: ServiceImplementsContract = true;
void serviceImplements;
// A handler object missing a command does not type-check.
const { connect: _omitted, ...missingOne } = echoHandlers();
// @ts-expect-error — 'connect' is missing
const incomplete: ContractHandlers = missingOne;
void incomplete;
// A client call with the wrong argument shape does not type-check.
declare const client: ContractClient;
// @ts-expect-error — startJob needs source, outDir, mode, onlyNew
void (() => client.startJob({ source: 'x' }));

test('every command and event has exactly one channel, and names are unique', () => {
  assert.equal(new Set(commandNames).size, commandNames.length);
  assert.equal(new Set(eventNames).size, eventNames.length);
  assert.deepEqual(commandChannels, commandNames.map(commandChannel));
  assert.ok(commandChannels.every((c) => c.startsWith('reelpack:cmd:')));
  assert.ok(eventNames.every((e) => eventChannel(e).startsWith('reelpack:evt:')));
});

test('registerContract registers every channel once (what Electron main does with ipcMain.handle)', async () => {
  const registered = new Map<string, (args: unknown) => Promise<Reply<unknown>>>();
  registerContract(echoHandlers(), (channel, run) => registered.set(channel, run));
  assert.deepEqual([...registered.keys()].sort(), [...commandChannels].sort());
  const reply = await registered.get(commandChannel('getJob'))!({ jobId: 'j1' });
  assert.deepEqual(reply, { ok: true, value: { command: 'getJob', args: { jobId: 'j1' } } });
});

test('a missing, extra or duplicate channel fails with its name', () => {
  const all = [...commandChannels];
  assert.doesNotThrow(() => assertChannels(all, commandChannels, 'registered'));
  assert.throws(() => assertChannels(all.filter((c) => c !== commandChannel('pauseJob')), commandChannels, 'registered'), /missing reelpack:cmd:pauseJob/);
  assert.throws(() => assertChannels([...all, 'reelpack:cmd:deleteEverything'], commandChannels, 'exposed'), /extra reelpack:cmd:deleteEverything/);
  assert.throws(() => assertChannels([...all, commandChannel('connect')], commandChannels, 'exposed'), /duplicate reelpack:cmd:connect/);
});

test('a handler object missing a command is refused at run time too', () => {
  assert.doesNotThrow(() => assertHandlers(echoHandlers()));
  const { retryFailed: _gone, ...rest } = echoHandlers();
  assert.throws(() => assertHandlers(rest), /missing retryFailed/);
});

test('errors cross as data, never as thrown objects', async () => {
  const handlers = echoHandlers();
  handlers.connect = async () => {
    throw Object.assign(new Error('server unreachable'), { code: 'SOURCE_UNUSABLE' });
  };
  handlers.getSettings = async () => {
    throw new TypeError('boom');
  };
  assert.deepEqual(await dispatchCommand(handlers, 'connect', { url: 'http://x' }), { ok: false, error: { code: 'SOURCE_UNUSABLE', message: 'server unreachable' } });
  assert.deepEqual(await dispatchCommand(handlers, 'getSettings', {}), { ok: false, error: { code: 'INTERNAL', message: 'boom' } });
  assert.equal(((await dispatchCommand(handlers, 'rmrf', {})) as { error: { code: string } }).error.code, 'UNKNOWN_COMMAND');
  assert.equal(((await dispatchCommand(handlers, 'getJob', 'not an object')) as { error: { code: string } }).error.code, 'BAD_ARGUMENT');
  // Prototype names are not commands.
  assert.equal(((await dispatchCommand(handlers, 'constructor', {})) as { error: { code: string } }).error.code, 'UNKNOWN_COMMAND');
});

test('createContractClient (what the preload exposes) has exactly the commands plus on()', async () => {
  const invoked: [string, unknown][] = [];
  const subscribed: string[] = [];
  const ui = createContractClient(
    async (channel, args) => {
      invoked.push([channel, args]);
      if (channel === commandChannel('connect')) throw new Error('ipc broke');
      return { ok: true, value: null };
    },
    (channel) => {
      subscribed.push(channel);
      return () => {};
    },
  );
  assert.deepEqual(Object.keys(ui).sort(), [...commandNames, 'on'].sort());
  assert.deepEqual(await ui.listJobs({}), { ok: true, value: null });
  const failed = await ui.connect({ url: 'x' });
  assert.equal(failed.ok, false);
  ui.on('job', () => {});
  assert.deepEqual(subscribed, [eventChannel('job')]);
  assert.throws(() => (ui.on as (n: string, l: () => void) => void)('nope', () => {}), /unknown event/);
  assert.deepEqual(invoked.map(([c]) => c), [commandChannel('listJobs'), commandChannel('connect')]);
});

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /\.(ts|tsx|cts)$/.test(entry.name)) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}

test('no layer spells a channel by hand: main, preload and host derive theirs from the contract', async () => {
  for (const dir of ['electron/main', 'electron/preload', 'electron/host', 'renderer']) {
    for (const file of await sources(dir)) {
      const text = await readFile(file, 'utf8');
      assert.doesNotMatch(text, /['"`]reelpack:/, `${path.relative(root, file)} spells a channel name`);
    }
  }
  // Read as text, never imported: main and preload need the Electron runtime.
  const bridge = await readFile(path.join(root, 'electron/main/ipc-bridge.ts'), 'utf8');
  assert.match(bridge, /registerContract\(service,/);
  assert.match(bridge, /isTrustedSender\(event/);
  const preload = await readFile(path.join(root, 'electron/preload/preload.ts'), 'utf8');
  assert.match(preload, /createContractClient\(/);
  assert.match(preload, /exposeInMainWorld\('reelpack', client\)/);
});

test('command names are what the UI calls', () => {
  // A rename here is a breaking change for the renderer and for anyone scripting the host.
  const expected: CommandName[] = ['getAppInfo', 'getSettings', 'setLocale', 'forgetServer', 'connect', 'cancelConnect', 'checkFolder', 'chooseFolder', 'startJob', 'pauseJob', 'resumeJob', 'cancelJob', 'retryFailed', 'listJobs', 'getJob', 'forgetJob', 'openJobFolder', 'showOutput'];
  assert.deepEqual([...commandNames], expected);
});
