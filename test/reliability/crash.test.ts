// Crash: `reelpack fetch` is killed with SIGKILL at seeded random moments — while listing,
// downloading, zipping, and around a volume's verify-and-rename — and the same command is run
// again each time. At the end the archives (or loose files) are identical to the sources, no
// partial file is left under a final name, and the server sent no more than one clean run
// plus 1 MiB per file in flight for each kill. Short in `npm test` (~6 kills), long ≥ 50.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { tempDir } from '../helpers/servers.ts';
import { seededRandom, startHostileServer } from '../servers/hostile-server.ts';
import type { JobEvent } from '../../electron/core/jobs/job-events.ts';
import { checkArchive, extractAll, listTree, long, readTree, record, seed, stackTrace } from './reliability-kit.ts';

type Phase = 'listing' | 'downloading' | 'zipping' | 'renaming';
const concurrency = 3;
const MiB = 1024 * 1024;

interface Scenario {
  name: string;
  mode: 'zip' | 'folder';
  extra: string[];
  kills: number;
}
const scenarios: Scenario[] = [
  { name: 'zip in volumes', mode: 'zip', extra: ['--zip', 'crash.zip', '--volume-size', '3m'], kills: long ? 20 : 3 },
  { name: 'one zip', mode: 'zip', extra: ['--zip', 'crash.zip'], kills: long ? 15 : 1 },
  { name: 'folder', mode: 'folder', extra: [], kills: long ? 50 : 2 },
];

for (const [s, scenario] of scenarios.entries()) {
  test(`kill -9 ${scenario.kills}× at random moments (${scenario.name}), then the same command: sources intact, bounded re-download`, { timeout: long ? 600_000 : 90_000 }, async () => {
    const random = seededRandom(seed + 104_729 * (s + 1));
    const files = long ? 24 : 8;
    const server = await startHostileServer({
      count: files, size: (i) => Math.round(1.2 * MiB) + i * 37_001, rateBytesPerSec: 3 * MiB, listingDelayMs: 150,
    });
    const dir = await tempDir('reelpack-crash-');
    const clean = server.files.reduce((sum, f) => sum + f.data.length, 0);
    try {
      const out = join(dir.path, 'out');
      const args = ['fetch', server.url, '--out', out, '--mode', scenario.mode, '--concurrency', String(concurrency), '--json', ...scenario.extra];
      const env = { REELPACK_HOME: join(dir.path, 'home') };
      const phases: Phase[] = [];
      let kills = 0;
      let final: CliResult | undefined;
      for (let runs = 0; runs < scenario.kills * 3 + 5 && !final; runs++) {
        const fresh = !existsSync(join(out, '.reelpack', 'journal.ndjson')) && !existsSync(join(out, '.reelpack', 'journal'));
        const wanted = kills >= scenario.kills ? null : pickPhase(random, fresh, scenario.mode);
        const run = startCli(args, env);
        if (wanted) {
          const sentAtStart = server.demo.bytesSent();
          const threshold = (0.2 + random() * 1.3) * MiB;
          const delay = Math.floor(random() * 25);
          let fired = false;
          const fire = () => {
            if (fired) return;
            fired = true;
            void sleep(delay).then(() => run.child.kill('SIGKILL'));
          };
          let buffered = '';
          run.child.stdout!.on('data', (chunk: Buffer) => {
            buffered += chunk.toString();
            const lines = buffered.split('\n');
            buffered = lines.pop()!;
            for (const line of lines) {
              let event: JobEvent;
              try {
                event = JSON.parse(line) as JobEvent;
              } catch {
                continue;
              }
              if (wanted === 'listing' && event.type === 'listing') fire();
              if (wanted === 'zipping' && event.type === 'file' && event.state === 'zipped') fire();
              if (wanted === 'renaming' && event.type === 'bundle' && (event.state === 'verifying' || event.state === 'done')) fire();
            }
          });
          if (wanted === 'downloading') {
            void (async () => {
              while (!fired && run.child.exitCode === null && run.child.signalCode === null) {
                if (server.demo.bytesSent() - sentAtStart >= threshold) fire();
                await sleep(5);
              }
            })();
          }
        }
        const result = await run.done;
        if (result.signal === 'SIGKILL') {
          kills++;
          phases.push(wanted!);
          continue;
        }
        // The run outlived its kill moment (the phase never came): it must have finished cleanly.
        assert.equal(result.code, 0, `run ${runs + 1} (after kills at ${phases.join(', ')}) exited ${result.code}: ${result.stderr}\n${result.stdout.split('\n').filter((l) => !/"type":"(progress|file)"/.test(l)).slice(-12).join('\n')}`);
        assert.doesNotMatch(result.stderr, stackTrace);
        final = result;
      }
      assert.ok(final, 'the job never finished');
      assert.ok(kills >= Math.min(scenario.kills, 1), `only ${kills} kills landed`);

      // Nothing partial under a final name, no state left behind.
      const tree = await listTree(out);
      assert.ok(!tree.some((p) => p.startsWith('.reelpack')), `job state left: ${tree.join(' ')}`);
      assert.ok(!tree.some((p) => p.endsWith('.part')), `partial files left: ${tree.join(' ')}`);
      let got: Map<string, Buffer>;
      if (scenario.mode === 'zip') {
        const zips = tree.filter((p) => p.endsWith('.zip'));
        assert.deepEqual(final.summary?.outputs.map((o) => o.path).sort(), zips.map((z) => join(out, z)).sort(), 'outputs are the archives on disk');
        got = new Map();
        for (const zip of zips) {
          await checkArchive(join(out, zip));
          for (const [name, data] of await extractAll(join(out, zip), join(dir.path, `x-${zip}`))) {
            if (name === 'manifest.json' || name === 'SHA256SUMS') continue;
            assert.ok(!got.has(name), `${name} is in two volumes`);
            got.set(name, data);
          }
        }
      } else {
        got = await readTree(out);
      }
      assert.deepEqual([...got.keys()].sort(), server.files.map((f) => f.name).sort());
      for (const f of server.files) assert.ok(got.get(f.name)!.equals(f.data), `${f.name} differs from the source`);

      const sent = server.demo.bytesSent();
      const allowed = clean + kills * concurrency * MiB;
      process.stdout.write(`# crash ${scenario.name}: ${kills} kills (${phases.join(', ')}), sent ${sent} bytes for ${clean} (allowed ${allowed})\n`);
      assert.ok(sent <= allowed, `the server sent ${sent - clean} bytes more than a clean run; ${kills} kills allow ${allowed - clean}`);
      record(`crash ${scenario.name}`, { kills, files: files, archives: scenario.mode === 'zip' ? 1 : 0, lost: 0, corrupt: 0 });
    } finally {
      await server.close();
      await dir.remove();
    }
  });
}

function pickPhase(random: () => number, fresh: boolean, mode: 'zip' | 'folder'): Phase {
  const choices: Phase[] = mode === 'zip' ? ['downloading', 'downloading', 'downloading', 'zipping', 'renaming'] : ['downloading', 'downloading', 'downloading'];
  if (fresh) choices.push('listing');
  return choices[Math.floor(random() * choices.length)]!;
}

test('kill -9 after a volume is recorded but before its rename: the rerun renames it and finishes', { timeout: 60_000 }, async () => {
  const server = await startHostileServer({ count: 6, size: 1_200_000, rateBytesPerSec: 3 * MiB });
  const dir = await tempDir('reelpack-crash-rename-');
  try {
    const out = join(dir.path, 'out');
    const args = ['fetch', server.url, '--out', out, '--zip', 'v.zip', '--volume-size', '3m', '--json'];
    const env = { REELPACK_HOME: join(dir.path, 'home') };
    const run = startCli(args, env);
    run.child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('"type":"bundle","state":"done"')) run.child.kill('SIGKILL');
    });
    assert.equal((await run.done).signal, 'SIGKILL');
    // The crash one step earlier: the state file records the verified volume, its rename has not happened.
    const statePath = join(out, '.reelpack', 'bundle-state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as { volumes: Array<{ fileName: string }> };
    assert.ok(state.volumes.length >= 1);
    const last = state.volumes.at(-1)!.fileName;
    await rename(join(out, last), join(out, `${last}.part`));
    const again = await runCli(args, env);
    assert.equal(again.code, 0, JSON.stringify(again.summary));
    const got = new Map<string, Buffer>();
    for (const zip of (await listTree(out)).filter((p) => p.endsWith('.zip'))) {
      await checkArchive(join(out, zip));
      for (const [name, data] of await extractAll(join(out, zip), join(dir.path, `x-${zip}`))) if (name.endsWith('.mp4')) got.set(name, data);
    }
    for (const f of server.files) assert.ok(got.get(f.name)?.equals(f.data), `${f.name} missing or different`);
  } finally {
    await server.close();
    await dir.remove();
  }
});
