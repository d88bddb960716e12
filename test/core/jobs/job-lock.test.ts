// The one-run-per-folder lock, within one process (the app runs every job in one) and across
// processes (a lock left by a process that is gone is taken over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import { acquireJobLock, folderKey, processStart } from '../../../electron/core/jobs/job-lock.ts';
import { discardJob, runJob } from '../../../electron/core/jobs/job-runner.ts';
import { startDemoServer } from '../../servers/demo-server.ts';
import { tempDir } from '../../helpers/servers.ts';

test('a second job of the same process is refused a folder that one of its jobs works in, even when both start at once', async () => {
  const dir = await tempDir();
  try {
    const stateDir = join(dir.path, '.reelpack');
    await mkdir(stateDir);
    const both = await Promise.allSettled([acquireJobLock(stateDir, dir.path), acquireJobLock(stateDir, dir.path)]);
    const granted = both.filter((r) => r.status === 'fulfilled');
    const refused = both.filter((r) => r.status === 'rejected');
    assert.equal(granted.length, 1);
    assert.equal(refused.length, 1);
    assert.match(String((refused[0] as PromiseRejectedResult).reason.message), /another job is already working in/);
    assert.equal((refused[0] as PromiseRejectedResult).reason.code, 'LOCKED');
    await (granted[0] as PromiseFulfilledResult<() => Promise<void>>).value();
    const again = await acquireJobLock(stateDir, dir.path); // free once released
    await again();
  } finally {
    await dir.remove();
  }
});

test('a lock file with this process\'s pid that this process does not hold (a reused pid) is stale and taken over', async () => {
  const dir = await tempDir();
  try {
    const stateDir = join(dir.path, '.reelpack');
    await mkdir(stateDir);
    await writeFile(join(stateDir, 'lock'), JSON.stringify({ pid: process.pid, host: hostname(), since: '2020-01-01T00:00:00Z' }));
    const release = await acquireJobLock(stateDir, dir.path);
    await release();
  } finally {
    await dir.remove();
  }
});

test('two runs of one job in one process: the second is refused, and a discard cannot delete the state under the first', async () => {
  const demo = await startDemoServer({ count: 4, size: 400_000, rateBytesPerSec: 800_000 });
  const dir = await tempDir();
  try {
    const out = join(dir.path, 'out');
    const options = { source: demo.url, outDir: out, mode: 'zip' as const, concurrency: 2, stallTimeoutMs: 10_000, retries: 1, depth: 3, onlyNew: false, allowPartial: false, catalogDir: join(dir.path, 'catalog') };
    let discardWhileRunning: Promise<unknown> | undefined;
    let second: ReturnType<typeof runJob> | undefined;
    const first = runJob(options, (e) => {
      if (e.type === 'progress' && e.bytesDone > 0 && !second) {
        second = runJob(options, () => {});
        discardWhileRunning = discardJob(out, demo.url).then(() => 'discarded', (error: { code?: string }) => error.code);
      }
    });
    const [a, b] = [await first, await second!];
    assert.equal(a.ok, true, JSON.stringify(a));
    assert.equal(b.ok, false);
    assert.equal(b.error?.code, 'LOCKED', JSON.stringify(b));
    assert.equal(await discardWhileRunning, 'LOCKED');
    assert.ok(!existsSync(join(out, '.reelpack')), 'the first run finished and cleaned up after itself');
  } finally {
    await demo.close();
    await dir.remove();
  }
});

test('a run whose listing fails leaves no empty .reelpack folder behind', async () => {
  const dir = await tempDir();
  try {
    const out = join(dir.path, 'out');
    const summary = await runJob({ source: join(dir.path, 'no-such-list.txt'), outDir: out, mode: 'zip', concurrency: 2, stallTimeoutMs: 10_000, retries: 0, depth: 3, onlyNew: false, allowPartial: false, catalogDir: join(dir.path, 'catalog') }, () => {});
    assert.equal(summary.ok, false);
    assert.ok(!existsSync(join(out, '.reelpack')));
  } finally {
    await dir.remove();
  }
});

test('a lock whose pid now belongs to another program (a reboot, pids wrapping) is stale; one of the live owner is not', { skip: processStart(process.pid) === undefined ? 'no /proc here' : false }, async () => {
  const dir = await tempDir();
  const other = spawn('sleep', ['30']); // a live process that is not the lock's owner
  try {
    const stateDir = join(dir.path, '.reelpack');
    await mkdir(stateDir);
    const lock = join(stateDir, 'lock');
    await writeFile(lock, JSON.stringify({ pid: other.pid, host: hostname(), since: '2020-01-01T00:00:00Z', started: '1' }));
    const release = await acquireJobLock(stateDir, dir.path);
    await release();
    await writeFile(lock, JSON.stringify({ pid: other.pid, host: hostname(), since: '2020-01-01T00:00:00Z', started: processStart(other.pid!) }));
    await assert.rejects(acquireJobLock(stateDir, dir.path), { code: 'LOCKED' });
  } finally {
    other.kill();
    await dir.remove();
  }
});

test('a lock whose owner was killed and is now a zombie (not yet waited for by its parent) is stale', { skip: processStart(process.pid) === undefined ? 'no /proc here' : false }, async () => {
  const dir = await tempDir();
  // The shell's background child exits at once; the shell then becomes `sleep`, which never
  // waits for it: a zombie, as a kill -9'd run is until its parent reaps it.
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30']);
  try {
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
    let state = '';
    for (let i = 0; i < 100 && state !== 'Z'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
    }
    assert.equal(state, 'Z', 'the test made a zombie');
    const stateDir = join(dir.path, '.reelpack');
    await mkdir(stateDir);
    await writeFile(join(stateDir, 'lock'), JSON.stringify({ pid: zombie, host: hostname(), since: '2020-01-01T00:00:00Z', started: processStart(zombie) }));
    const release = await acquireJobLock(stateDir, dir.path);
    await release();
  } finally {
    parent.kill();
    await dir.remove();
  }
});

test('where no start time could be recorded (Windows, macOS), a lock written before this machine booted is stale even if its pid is alive again; where one was, a clock step cannot make a live lock stale', async () => {
  const dir = await tempDir();
  const other = spawn('sleep', ['30']);
  try {
    const stateDir = join(dir.path, '.reelpack');
    await mkdir(stateDir);
    const lock = join(stateDir, 'lock');
    const booted = Math.round(Date.now() / 1000 - uptime());
    const owner = { pid: other.pid, host: hostname(), since: '2020-01-01T00:00:00Z' };
    await writeFile(lock, JSON.stringify({ ...owner, boot: booted - 86_400 })); // as written on Windows or macOS
    await (await acquireJobLock(stateDir, dir.path))();
    await writeFile(lock, JSON.stringify({ ...owner, boot: booted }));
    await assert.rejects(acquireJobLock(stateDir, dir.path), { code: 'LOCKED' });
    // Linux: the boot time looks a day old (the clock was stepped), the start time says the owner lives.
    await writeFile(lock, JSON.stringify({ ...owner, started: processStart(other.pid!), boot: booted - 86_400 }));
    await assert.rejects(acquireJobLock(stateDir, dir.path), { code: 'LOCKED' });
  } finally {
    other.kill();
    await dir.remove();
  }
});

test('one folder is one key however its path is typed where names ignore case (Windows, macOS) or come as NFD (macOS)', () => {
  assert.equal(folderKey('D:\\Videos\\Batch', 'win32'), folderKey('d:\\videos\\batch\\', 'win32'));
  assert.equal(folderKey('/Users/op/Café', 'darwin'), folderKey('/users/op/Cafe\u0301', 'darwin'));
  assert.notEqual(folderKey('/srv/Videos', 'linux'), folderKey('/srv/videos', 'linux'), 'Linux names keep their case');
});
