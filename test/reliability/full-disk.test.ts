// Full disk, on a small tmpfs the test mounts (root only; skipped with the reason otherwise):
// the job stops with a clear DISK_FULL (exit 1), leaves no incomplete file under a final
// name, and finishes once space is freed and the same command is run again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.ts';
import { cannotMountTmpfs, withTmpfs } from '../helpers/tmpfs.ts';
import { startDemoServer } from '../servers/demo-server.ts';
import { startHostileServer } from '../servers/hostile-server.ts';
import { checkArchive, extractAll, listTree, readTree, record, stackTrace } from './reliability-kit.ts';

const MiB = 1024 * 1024;

const reason = cannotMountTmpfs();
if (reason) process.stdout.write(`# full-disk tests skipped: ${reason}\n`);

/** Files that exist under a final name: everything outside the job's own state. */
async function finalNames(out: string): Promise<string[]> {
  // ".part" names are unfinished by definition (a stopped job keeps an empty one for its archive's name).
  return (await listTree(out)).filter((p) => !p.startsWith('.reelpack') && !p.endsWith('/') && !p.endsWith('.part'));
}

const cases = [
  { name: 'sizes known: refused before starting', mode: 'folder', hideSizes: false },
  { name: 'sizes unknown: ENOSPC mid-download, folder', mode: 'folder', hideSizes: true },
  { name: 'sizes unknown: ENOSPC mid-download, zip', mode: 'zip', hideSizes: true },
] as const;

for (const c of cases) {
  test(`full disk (${c.name}): DISK_FULL, nothing incomplete under a final name, finishes after space is freed`, {
    skip: reason ?? false,
    timeout: 90_000,
  }, async () => {
    const server = await startHostileServer({
      count: 10, size: MiB,
      // Without sizes the engine cannot check free space up front: it meets ENOSPC while writing.
      apiItem: c.hideSizes ? (item) => ({ ...item, size: undefined }) : undefined,
    });
    try {
      await withTmpfs(6, async (mount, resize) => {
        const out = join(mount, 'out');
        const args = ['fetch', server.url, '--out', out, '--mode', c.mode, '--zip', 'full.zip', '--json', '--concurrency', '2'];
        const env = { REELPACK_HOME: join(mount, 'home') };
        const full = await runCli(args, env);
        assert.equal(full.code, 1, `exit code: ${full.stderr}`);
        assert.equal(full.summary?.error?.code, 'DISK_FULL', JSON.stringify(full.summary));
        assert.match(full.stderr + (full.summary?.error?.message ?? ''), /disk full|not enough free space|no space/i);
        assert.doesNotMatch(full.stderr, stackTrace);
        // Refused before it began, a job leaves nothing to resume (a rerun may change its
        // settings); stopped mid-way, it is saved.
        if (c.hideSizes) assert.match(full.stderr, /the job is saved: run the same command again to resume/);
        else assert.doesNotMatch(full.stderr, /the job is saved/);
        // Whatever is under a final name is complete: loose files equal their source, and no archive yet.
        for (const name of await finalNames(out)) {
          assert.ok(!name.endsWith('.zip'), `archive ${name} exists although the job failed`);
          const source = server.files.find((f) => f.name === name);
          assert.ok(source, `unexpected file ${name}`);
          assert.ok((await readTree(out)).get(name)!.equals(source.data), `${name} is incomplete under its final name`);
        }

        resize(64);
        const again = await runCli(args, env);
        assert.equal(again.code, 0, again.stderr);
        if (c.mode === 'folder') {
          const tree = await readTree(out, (rel) => rel.startsWith('.reelpack/'));
          for (const f of server.files) assert.ok(tree.get(f.name)?.equals(f.data), `${f.name} differs after the rerun`);
        } else {
          const zip = join(out, 'full.zip');
          await checkArchive(zip);
          const entries = await extractAll(zip, join(mount, 'x'));
          for (const f of server.files) assert.ok(entries.get(f.name)?.equals(f.data), `${f.name} differs in the archive`);
        }
        record(`full disk ${c.name}`, { files: server.files.length, lost: 0, corrupt: 0 });
      });
    } finally {
      await server.close();
    }
  });
}

test('a disk that fills while a large file arrives slowly stops the job then, not after the whole body has been downloaded into nothing', {
  skip: reason ?? false,
  timeout: 60_000,
}, async () => {
  // 24 MiB at 6 MiB/s into 6 MiB of room; a URL list gives no size, so nothing is refused up front.
  const demo = await startDemoServer({ count: 1, size: 24 * MiB, rateBytesPerSec: 6 * MiB });
  try {
    await withTmpfs(6, async (mount) => {
      const list = join(mount, 'urls.txt');
      await writeFile(list, `${demo.url}/outputs/${demo.files[0]!.name}\n`);
      const run = await runCli(['fetch', list, '--out', join(mount, 'out'), '--mode', 'folder', '--json'], { REELPACK_HOME: join(mount, 'home') });
      assert.equal(run.summary?.error?.code, 'DISK_FULL', JSON.stringify(run.summary));
      assert.ok((run.summary?.networkBytes ?? Infinity) < 12 * MiB, `${((run.summary?.networkBytes ?? 0) / MiB).toFixed(1)} MiB downloaded before the full disk stopped the job`);
    });
  } finally {
    await demo.close();
  }
});

/** Bytes under `dir` (not recursive: staging is flat), 0 when it is gone. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) total += (await stat(join(dir, name)).catch(() => null))?.size ?? 0;
  return total;
}

test('zip mode with volumes needs room for the archives and a few volumes of staging, not twice the batch', {
  skip: reason ?? false,
  timeout: 90_000,
}, async () => {
  const count = 32;
  const volume = 3 * MiB;
  const concurrency = 2;
  const server = await startHostileServer({ count, size: MiB });
  try {
    // The batch is 32 MiB: 64 MiB of staging and archives if nothing were deleted before the end.
    // Staged files go volume by volume, and downloads wait while more than a volume plus one
    // file per connection is staged outside the open volume (job-preflight.ts): at most
    // 3 (open volume) + 5 (the limit) + 4 × 2 (per connection) = 16 MiB of staging, so
    // 32 + 16 + the archives' overhead (~1.1 MiB) fits in 52.
    await withTmpfs(52, async (mount) => {
      const out = join(mount, 'out');
      const args = ['fetch', server.url, '--out', out, '--zip', 'set.zip', '--volume-size', String(volume), '--json', '--concurrency', String(concurrency)];
      const run = startCli(args, { REELPACK_HOME: join(mount, 'home') }, { timeoutMs: 80_000 });
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, await folderBytes(join(out, '.reelpack', 'files')));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const result = await run.done;
      sampling = false;
      await sampler;
      assert.equal(result.code, 0, result.stderr);
      assert.ok(peak > 0, 'staging was sampled');
      assert.ok(peak <= 16 * MiB, `staging peaked at ${(peak / MiB).toFixed(1)} MiB, over the 16 MiB bound`);
      const volumes = (result.summary?.outputs ?? []).map((o) => o.path);
      assert.ok(volumes.length >= 11, `volumes: ${volumes.join(', ')}`);
      const entries = new Map<string, Buffer>();
      for (const [i, zip] of volumes.entries()) {
        // Every reader on the first and the last volume; the others are extracted and compared.
        if (i === 0 || i === volumes.length - 1) await checkArchive(zip);
        for (const [name, data] of await extractAll(zip, join(mount, `x${i}`))) if (name !== 'manifest.json' && name !== 'SHA256SUMS') entries.set(name, data);
        await rm(join(mount, `x${i}`), { recursive: true, force: true });
      }
      for (const f of server.files) assert.ok(entries.get(f.name)?.equals(f.data), `${f.name} differs or is missing`);
      record('staging limit with volumes', { files: count, lost: 0, corrupt: 0 });
    });
  } finally {
    await server.close();
  }
});

test('a read-only destination is refused up front (exit 2) with a plain reason', { skip: reason ?? false, timeout: 60_000 }, async () => {
  const server = await startHostileServer({ count: 2, size: () => 1000 });
  try {
    await withTmpfs(1, async (mount) => {
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const result = await runCli(['fetch', server.url, '--out', mount, '--json']);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.summary?.error?.code, 'USAGE');
      assert.match(result.summary?.error?.message ?? '', /^cannot write to destination .*: read-only file system$/);
      assert.doesNotMatch(result.stderr, stackTrace);
      assert.doesNotMatch(result.stderr, /the job is saved/);
    });
  } finally {
    await server.close();
  }
});
