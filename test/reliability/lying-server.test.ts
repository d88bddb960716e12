// Lying servers: a size or checksum that does not match never yields a "verified" file, a
// loose file under its final name, or an archive entry — in folder and zip mode. Also files
// that change between attempts, and redirect loops / chains / non-http schemes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runJob } from '../../electron/core/jobs/job-runner.ts';
import type { JobOptions } from '../../electron/core/jobs/job-runner.ts';
import type { JobEvent, JobSummary } from '../../electron/core/jobs/job-events.ts';
import { tempDir } from '../helpers/servers.ts';
import { sampleVideo } from '../servers/demo-server.ts';
import { startHostileServer } from '../servers/hostile-server.ts';
import type { HostileFault, HostileServerOptions } from '../servers/hostile-server.ts';
import { archiveEntries, checkArchive, extractAll, record } from './reliability-kit.ts';

const liar = 'result_0001.mp4';
let lies = 0;

interface Outcome {
  summary: JobSummary;
  events: JobEvent[];
  out: string;
  zip: string;
  server: Awaited<ReturnType<typeof startHostileServer>>;
  zipEntries: string[] | null;
}

/** Runs a 3-file job where file #0 meets `fault` on every GET (or as `fault` decides). */
async function runLiar(
  fault: (attempt: number) => HostileFault | undefined,
  options: { server?: HostileServerOptions; source?: 'api' | 'json'; job?: Partial<JobOptions> } = {},
): Promise<Outcome> {
  const server = await startHostileServer({
    count: 3, size: 60_000, ...options.server,
    fault: (req, _file, index, attempt) => (index === 0 && req.method === 'GET' ? fault(attempt) : undefined),
  });
  const dir = await tempDir('reelpack-liar-');
  try {
    const out = join(dir.path, 'out');
    const events: JobEvent[] = [];
    const summary = await runJob({
      source: options.source === 'json' ? `${server.url}/json/` : server.url, outDir: out, mode: 'both', zipName: 'lies.zip',
      concurrency: 3, stallTimeoutMs: 2000, retries: 2, depth: 1, onlyNew: false, allowPartial: true, catalogDir: join(dir.path, 'catalog'),
      ...options.job,
    }, (e) => events.push(e));
    lies++;
    const zip = join(out, 'lies.zip');
    let zipEntries: string[] | null = null;
    if (existsSync(zip)) {
      await checkArchive(zip);
      zipEntries = await archiveEntries(zip);
      const extracted = await extractAll(zip, join(dir.path, 'x'));
      for (const f of server.files) {
        const data = extracted.get(f.name);
        if (data) assert.ok(data.equals(f.data), `${f.name} in the archive is not the source`);
      }
    }
    const outcome = { summary, events, out, zip, server, zipEntries };
    outcome.out = existsSync(join(out, liar)) ? join(out, liar) : '';
    return outcome;
  } finally {
    await server.close();
    await dir.remove();
  }
}

/** The liar is failed with a reason matching `reason`, never verified, not loose, not zipped; the honest files are fine. */
function assertRefused(result: Outcome, reason: RegExp): void {
  const verified = result.events.find((e) => e.type === 'file' && e.name === liar && e.state === 'verified');
  assert.equal(verified, undefined, `the lying file was verified: ${JSON.stringify(result.events.filter((e) => e.type === 'file' && e.name === liar))}`);
  assert.deepEqual(result.summary.failed.map((f) => f.name), [liar], JSON.stringify(result.summary));
  assert.match(result.summary.failed[0]!.reason, reason);
  assert.equal(result.out, '', 'the lying file is under its final name');
  assert.ok(result.zipEntries, 'the partial archive was written');
  assert.ok(!result.zipEntries.includes(liar), 'the lying file is in the archive');
  assert.equal(result.summary.files, 2);
}

test('checksum lie in the listing: never verified, in no archive; the manifest names it failed', async () => {
  const result = await runLiar(() => undefined, { server: { apiItem: (item, _f, i) => (i === 0 ? { ...item, sha256: 'ab'.repeat(32) } : item) } });
  assertRefused(result, /SHA-256 mismatch/);
});

test('checksum lie in Repr-Digest (no checksum in the listing): never verified', async () => {
  const result = await runLiar(() => ({ kind: 'lie-digest' }), { source: 'json' });
  assertRefused(result, /SHA-256 mismatch/);
});

test('junk past the body on every answer (no Content-Length): never verified', async () => {
  const result = await runLiar(() => ({ kind: 'unbounded-extra', bytes: 777 }));
  assertRefused(result, /bytes|size/i);
});

test('a Content-Length larger than the body on every answer: never verified', { timeout: 60_000 }, async () => {
  const result = await runLiar(() => ({ kind: 'wrong-total', delta: 5000 }));
  assertRefused(result, /bytes|size|still being written/i);
});

test('a wrong Content-Range on every resumed answer: resumed from scratch, never spliced', async () => {
  const result = await runLiar((n) => (n === 1 ? { kind: 'drop', afterBytes: 30_000 } : { kind: 'wrong-range', shift: 1000 }));
  // Every range answer is wrong; the file is failed or fetched whole — either way never spliced (checked in runLiar).
  if (result.summary.failed.length) assertRefused(result, /range|size/i);
});

test('the file changes between attempts while the listing has its checksum: never verified, never spliced', async () => {
  const changed = sampleVideo(42, 60_000);
  const result = await runLiar((n) => (n === 1 ? { kind: 'drop', afterBytes: 30_000 } : n === 2 ? { kind: 'change', data: changed } : undefined));
  assertRefused(result, /SHA-256 mismatch/);
});

test('a listed size the server never serves (no checksum anywhere) is not verified', {
  timeout: 60_000,
}, async () => {
  // The JSON index says 60,000 bytes; the server always answers with Content-Length 59,000 and 59,000 bytes.
  const result = await runLiar(() => ({ kind: 'wrong-total', delta: -1000 }), { source: 'json' });
  assertRefused(result, /size|still being written/i);
});

test('a listed size and checksum that the served file never matches: never verified', { timeout: 60_000 }, async () => {
  const result = await runLiar(() => undefined, { server: { apiItem: (item, _f, i) => (i === 0 ? { ...item, size: 61_000, sha256: 'cd'.repeat(32) } : item) } });
  assertRefused(result, /SHA-256 mismatch|size|still being written/i);
});

test('zip mode without --allow-partial: a lying file means no archive at all, exit code 1 material', async () => {
  const result = await runLiar(() => ({ kind: 'lie-digest' }), { source: 'json', job: { allowPartial: false, mode: 'zip' } });
  assert.equal(result.summary.ok, false);
  assert.equal(result.zipEntries, null, 'an archive was written although a file failed');
  assert.deepEqual(result.summary.outputs, []);
});

const redirects: Array<[string, HostileFault, RegExp | null]> = [
  ['a redirect loop', { kind: 'redirect-loop' }, /redirect/],
  ['a chain of 12 redirects', { kind: 'redirect-chain', hops: 12 }, /redirect/],
  ['a chain of 3 redirects', { kind: 'redirect-chain', hops: 3 }, null],
  ['a redirect to ftp:', { kind: 'redirect', location: 'ftp://127.0.0.1/x.mp4' }, /non-http/],
  ['a redirect to javascript:', { kind: 'redirect', location: 'javascript:alert(1)' }, /non-http/],
  ['a redirect to data:', { kind: 'redirect', location: 'data:video/mp4;base64,AAAA' }, /non-http/],
  ['a redirect to file:', { kind: 'redirect', location: 'file:///etc/shadow' }, /non-http/],
  ['a redirect to a broken URL', { kind: 'redirect', location: 'http://[::1' }, /redirect|URL|invalid/i],
];
for (const [name, fault, reason] of redirects) {
  test(`${name}: ${reason ? 'fails clearly without retrying forever' : 'is followed'}`, async () => {
    const result = await runLiar(() => fault);
    if (!reason) {
      assert.equal(result.summary.ok, true, JSON.stringify(result.summary));
      return;
    }
    assertRefused(result, reason);
    assert.ok(result.server.attempts[0]! <= 3, `asked ${result.server.attempts[0]} times`);
  });
}

test('lying-server totals', () => {
  record('lying servers', { hostile: lies, lost: 0, corrupt: 0 });
});
