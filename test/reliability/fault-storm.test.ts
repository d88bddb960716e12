// Fault storm: a batch where most requests meet a seeded fault (drops, stalls, short bodies,
// junk past Content-Length, wrong Content-Range, garbage instead of HTTP, 429/503 with
// Retry-After, 5xx, redirect chains, ignored ranges…). Every file ends byte-identical to the
// source or is reported failed; every archive passes every independent reader; retries stay
// bounded. Short in `npm test` (~150 faults), long with RELIABILITY_LONG=1 (≥1000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runJob } from '../../electron/core/jobs/job-runner.ts';
import type { JobEvent } from '../../electron/core/jobs/job-events.ts';
import { tempDir } from '../helpers/servers.ts';
import { seededRandom, startHostileServer } from '../servers/hostile-server.ts';
import type { HostileFault } from '../servers/hostile-server.ts';
import { archiveEntries, checkArchive, extractAll, long, record, seed } from './reliability-kit.ts';

type Source = 'api' | 'json' | 'html';
const rounds: Array<{ source: Source; files: number }> = long
  ? [
    { source: 'api', files: 120 }, { source: 'json', files: 120 }, { source: 'html', files: 100 },
    { source: 'api', files: 150 }, { source: 'json', files: 120 }, { source: 'api', files: 150 }, { source: 'json', files: 100 },
  ]
  : [{ source: 'api', files: 65 }, { source: 'json', files: 55 }];
const faultRate = 0.7;
/** After this many faults in a row a file gets an honest answer, so backoff stays short. */
const maxFaultsInARow = 5;
const retries = 8;
const stallMs = 300;

/** One seeded fault. HTML listings carry no size: a close-delimited body with junk would be undetectable there, so it is not sent. */
function pickFault(random: () => number, size: number, source: Source): HostileFault {
  const cut = () => Math.floor(random() * size * 0.9);
  const kinds: Array<() => HostileFault> = [
    () => ({ kind: 'status', status: 503, retryAfter: '0' }),
    () => ({ kind: 'status', status: 429, retryAfter: '0' }),
    () => ({ kind: 'status', status: [500, 502, 504, 408][Math.floor(random() * 4)]! }),
    () => ({ kind: 'drop', afterBytes: cut() }),
    () => ({ kind: 'drop', afterBytes: cut() }),
    () => ({ kind: 'short', bytes: cut() }),
    () => ({ kind: 'stall', afterBytes: cut() }),
    () => ({ kind: 'ignore-range' }),
    () => ({ kind: 'redirect-chain', hops: 1 + Math.floor(random() * 4) }),
    () => ({ kind: 'extra-bytes', bytes: 1 + Math.floor(random() * 70_000) }),
    () => ({ kind: 'wrong-range', shift: Math.floor(random() * 2000) - 1000 || 1 }),
    () => ({ kind: 'unasked-range' }),
    () => ({ kind: 'garbage' }),
    () => ({ kind: 'lie-digest' }),
    ...(source === 'html' ? [] : [() => ({ kind: 'unbounded-extra', bytes: 1 + Math.floor(random() * 5000) }) as HostileFault]),
  ];
  return kinds[Math.floor(random() * kinds.length)]!();
}

test(`fault storm: ${long ? 'long' : 'short'} version, every file identical or reported failed, no corrupt archive`, { timeout: long ? 1_500_000 : 150_000 }, async () => {
  let faultsTotal = 0;
  let filesTotal = 0;
  let failedTotal = 0;
  for (const [r, round] of rounds.entries()) {
    const random = seededRandom(seed + r * 7919);
    const inARow = new Map<number, number>();
    const server = await startHostileServer({
      count: round.files,
      size: (i) => 20_000 + ((i * 7793) % 180_000),
      // The HTML index names files by their URL: keep those plain.
      fault: (req, file, index) => {
        if (req.method !== 'GET') return undefined;
        const row = inARow.get(index) ?? 0;
        if (row >= maxFaultsInARow || random() >= faultRate) {
          inARow.set(index, 0);
          return undefined;
        }
        inARow.set(index, row + 1);
        return pickFault(random, file.data.length, round.source);
      },
    });
    const dir = await tempDir('reelpack-storm-');
    try {
      const out = join(dir.path, 'out');
      const events: JobEvent[] = [];
      const source = round.source === 'api' ? server.url : `${server.url}/${round.source}/`;
      const summary = await runJob({
        source, outDir: out, mode: 'both', zipName: 'storm.zip', concurrency: 6, stallTimeoutMs: stallMs, retries, depth: 1,
        onlyNew: false, allowPartial: true, catalogDir: join(dir.path, 'catalog'),
      }, (e) => events.push(e));
      const faults = server.faultsInjected();
      faultsTotal += faults;
      filesTotal += round.files;
      assert.equal(summary.error, undefined, JSON.stringify(summary.error));

      // Loose files: byte-identical, or named in the summary as failed.
      const failed = new Set(summary.failed.map((f) => f.name));
      failedTotal += failed.size;
      // Without a checksum in the listing, a Repr-Digest lie on the download and again on its one re-download
      // fails the file — rightly. Any other failure means a fault streak within the retry budget was not survived.
      for (const f of summary.failed) assert.match(f.reason, /SHA-256 mismatch/, `${f.name} failed: ${f.reason}`);
      if (round.source === 'api') assert.equal(failed.size, 0, 'a file failed although the listing had its checksum');
      let present = 0;
      for (const file of server.files) {
        const data = await readFile(join(out, file.name)).catch(() => null);
        if (data === null) {
          assert.ok(failed.has(file.name), `${file.name} is missing but not reported failed`);
          continue;
        }
        assert.ok(data.equals(file.data), `${file.name} differs from the source`);
        assert.ok(!failed.has(file.name), `${file.name} reported failed yet present`);
        present++;
      }
      assert.equal(present + failed.size, round.files, 'every file is accounted for');
      assert.equal(summary.files, present);

      // The archive: every reader accepts it and its entries are the sources, byte for byte.
      const zip = join(out, 'storm.zip');
      await checkArchive(zip);
      const entries = (await archiveEntries(zip)).filter((n) => n !== 'manifest.json' && n !== 'SHA256SUMS');
      assert.equal(entries.length, present);
      const extracted = await extractAll(zip, join(dir.path, 'x'));
      for (const file of server.files) {
        const data = extracted.get(file.name);
        if (data) assert.ok(data.equals(file.data), `${file.name} in the zip differs`);
        else assert.ok(failed.has(file.name), `${file.name} is missing from the zip but not reported failed`);
      }
      const manifest = JSON.parse(extracted.get('manifest.json')!.toString()) as { failed?: Array<{ name: string }> };
      assert.deepEqual((manifest.failed ?? []).map((f) => f.name).sort(), [...failed].sort(), 'the manifest names the failed files');

      // Bounded retries: no file was asked for more than the retry budget allows.
      const budget = (maxFaultsInARow + 2) * 4; // ≤ maxFaultsInARow faults in a row, then an honest answer
      const worst = Math.max(...server.attempts);
      assert.ok(worst <= budget, `a file was requested ${worst} times`);
      const retrying = events.filter((e) => e.type === 'file' && e.state === 'retrying').length;
      assert.ok(retrying >= faults * 0.5, `only ${retrying} retries for ${faults} faults`);
      process.stdout.write(`# storm round ${r + 1} (${round.source}): ${round.files} files, ${faults} faults ${JSON.stringify(Object.fromEntries(server.injected))}, ${failed.size} failed, worst ${worst} requests for one file\n`);
    } finally {
      await server.close();
      await dir.remove();
    }
  }
  assert.ok(faultsTotal >= (long ? 1000 : 150), `only ${faultsTotal} faults injected`);
  record('fault storm', { faults: faultsTotal, files: filesTotal, archives: rounds.length, lost: 0, corrupt: 0 });
  process.stdout.write(`# storm: ${faultsTotal} faults over ${filesTotal} files, ${failedTotal} reported failed (digest lies), 0 lost or corrupt\n`);
});
