// The `reelpack` command as users and other tools run it: exit codes, --json summary,
// resume after kill -9 and Ctrl-C, the lock, --only-new, and nginx byte-for-byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli } from '../helpers/cli.ts';
import { freePort, startNginx, tempDir } from '../helpers/servers.ts';
import { cannotMountTmpfs, withTmpfs } from '../helpers/tmpfs.ts';
import { startDemoServer } from '../servers/demo-server.ts';

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await tempDir();
  try {
    return await fn(dir.path);
  } finally {
    await dir.remove();
  }
}

test('usage errors exit 2 with a clear message and no stack trace', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['fetch', 'http://127.0.0.1:9/'], /required option '-o, --out <dir>'/],
    [['fetch', 'http://127.0.0.1:9/', '--out', '/tmp/x', '--concurrency', '0'], /--concurrency must be a whole number/],
    [['fetch', 'http://127.0.0.1:9/', '--out', '/tmp/x', '--mode', 'tar'], /Allowed choices are zip, folder, both/],
    [['fetch', 'http://127.0.0.1:9/', '--out', '/tmp/x', '--volume-size', 'lots'], /bad size/],
    [['fetch', 'gopher://x/', '--out', '/tmp/x'], /unsupported URL scheme/],
    [['frobnicate'], /unknown command/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /fetch \[options\] <source>/);
  // With --json the last line is a summary, also when the options themselves are wrong.
  const json = await runCli(['fetch', 'http://127.0.0.1:9/', '--out', '/tmp/x', '--mode', 'tar', '--json']);
  assert.equal(json.code, 2);
  assert.equal(json.summary?.error?.code, 'USAGE', json.stdout);
  assert.match(json.summary?.error?.message ?? '', /Allowed choices are zip, folder, both/);
});

test('a server that refuses access: exit 2, and the command line says how to give the token', async () => {
  const demo = await startDemoServer({ count: 2, size: 10, token: 's3cret' });
  try {
    await withTemp(async (dir) => {
      const fetched = await runCli(['fetch', demo.url, '--out', join(dir, 'out')], { REELPACK_TOKEN: undefined });
      assert.equal(fetched.code, 2, fetched.stderr);
      assert.match(fetched.stderr, /the server asks for an access token\n[^]*give the server's access token with --token or REELPACK_TOKEN/);
      const listed = await runCli(['list', demo.url, '--token', 'wrong'], { REELPACK_TOKEN: undefined });
      assert.equal(listed.code, 2, listed.stderr);
      assert.match(listed.stderr, /reelpack: .*the server refused the access token given\ngive the server's access token with --token or REELPACK_TOKEN\n/);
    });
  } finally {
    await demo.close();
  }
});

test('an unusable source exits 2 with a JSON summary naming the error', async () => {
  await withTemp(async (dir) => {
    const result = await runCli(['fetch', join(dir, 'missing'), '--out', join(dir, 'out'), '--json']);
    assert.equal(result.code, 2);
    assert.equal(result.summary?.ok, false);
    assert.equal(result.summary?.error?.code, 'SOURCE_UNUSABLE');
  });
});

test('fetch from the demo server: JSON events, summary, exit 1 when a file fails for good, the rest kept', async () => {
  let wait = false; // result_0005's server asks for an hour until then
  const demo = await startDemoServer({
    count: 6, size: 100_000,
    faults: (_req, file) => (file?.name === 'result_0002.mp4' ? { kind: 'status', status: 410 } : file?.name === 'result_0005.mp4' && !wait ? { kind: 'status', status: 429, retryAfter: '3600' } : undefined),
  });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const result = await runCli(['fetch', demo.url, '--out', out, '--mode', 'folder', '--json'], { REELPACK_HOME: join(dir, 'home') });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /the other files are kept: run the same command again to retry the failed ones, or add --allow-partial to finish without them/);
      const summary = result.summary!;
      assert.deepEqual(Object.keys(summary).sort(), ['bytes', 'failed', 'files', 'networkBytes', 'ok', 'outputs', 'type']);
      assert.equal(summary.ok, false);
      assert.equal(summary.files, 4);
      assert.equal(summary.bytes, 400_000);
      assert.deepEqual(summary.failed.map((f) => f.name), ['result_0002.mp4', 'result_0005.mp4']);
      // With what it takes to fetch them another way (the manifest's failed list has the same).
      assert.deepEqual(summary.failed.map((f) => [f.id, f.sourceUrl, f.code, f.httpStatus]), [
        ['job-00002', `${demo.url}/outputs/result_0002.mp4`, 'HTTP_STATUS', 410],
        ['job-00005', `${demo.url}/outputs/result_0005.mp4`, 'HTTP_STATUS', 429],
      ]);
      // A finished download is "saving" (flushed, recorded) before it is "verified", never "downloading" at 100 %.
      const states = result.events.filter((e) => e.type === 'file' && e.name === 'result_0001.mp4').map((e) => e.type === 'file' && e.state);
      assert.deepEqual(states.filter((state) => state !== 'downloading'), ['queued', 'saving', 'verified'], states.join(' '));
      const failedEvent = result.events.find((e) => e.type === 'file' && e.state === 'failed' && e.name === 'result_0002.mp4');
      assert.deepEqual(failedEvent?.type === 'file' && [failedEvent.code, failedEvent.httpStatus], ['HTTP_STATUS', 410]);
      // Longer than Reelpack waits: it fails at once and says why.
      assert.match(summary.failed[1]!.reason, /^HTTP 429 .*; the server asks to wait 60 min, longer than the 10 min Reelpack waits: run the job again later$/);
      assert.equal(summary.outputs.length, 4);
      for (const output of summary.outputs) {
        const source = demo.files.find((f) => output.path.endsWith(f.name))!;
        assert.equal(output.sha256, source.sha256);
        assert.ok((await readFile(output.path)).equals(source.data));
      }
      assert.ok(result.events.some((e) => e.type === 'listed'));
      // Run again without --mode (zip by default): the job resumes as it started, and says so.
      wait = true;
      const again = await runCli(['fetch', demo.url, '--out', out, '--json'], { REELPACK_HOME: join(dir, 'home') });
      assert.equal(again.code, 1, again.stderr);
      assert.ok(again.events.some((e) => e.type === 'warning' && /with its earlier settings: --mode folder/.test(String(e.message))), JSON.stringify(again.events.filter((e) => e.type === 'warning')));
      assert.deepEqual(again.summary?.outputs.filter((o) => o.path.endsWith('.zip')), [], 'still loose files, no archive');
      assert.deepEqual(again.summary?.failed.map((f) => f.name), ['result_0002.mp4'], 'the file the server asked to wait for is fetched now');
      // Finished without the one that is gone: a rerun would be a new job, so no "run again".
      const finished = await runCli(['fetch', demo.url, '--out', out, '--allow-partial'], { REELPACK_HOME: join(dir, 'home') });
      assert.equal(finished.code, 1, finished.stderr);
      assert.match(finished.stderr, /the job is finished without the failed files\n/);
      assert.doesNotMatch(finished.stderr, /run the same command again/);
    });
  } finally {
    await demo.close();
  }
});

test('kill -9 mid-download, run again: files identical, finished files not fetched again, little downloaded twice', async () => {
  const log: Array<{ method: string; url: string; range?: string | undefined; status: number }> = [];
  const fileSize = 4 * 1024 * 1024;
  const demo = await startDemoServer({ count: 6, size: fileSize, rateBytesPerSec: 3_000_000, log });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const args = ['fetch', demo.url, '--out', out, '--mode', 'folder', '--json', '--concurrency', '2'];
      const env = { REELPACK_HOME: join(dir, 'home') };
      const first = startCli(args, env);
      // Kill once the first two files are done and the next two are well under way.
      while (demo.bytesSent() < fileSize * 3.2) await sleep(20);
      first.child.kill('SIGKILL');
      const killed = await first.done;
      assert.equal(killed.signal, 'SIGKILL');
      const verifiedBeforeKill = killed.events.flatMap((e) => (e.type === 'file' && e.state === 'verified' ? [e.name] : []));
      assert.ok(verifiedBeforeKill.length >= 1, 'some file finished before the kill');
      const staged = await readdir(join(out, '.reelpack', 'files'));
      assert.ok(staged.some((f) => f.endsWith('.part')), `part files kept: ${staged}`);
      const requestsBefore = log.length;

      const second = await runCli(args, env);
      assert.equal(second.code, 0, second.stderr);
      for (const f of demo.files) assert.ok((await readFile(join(out, f.name))).equals(f.data), f.name);
      const again = log.slice(requestsBefore).filter((l) => l.url.startsWith('/outputs/'));
      for (const name of verifiedBeforeKill) assert.ok(!again.some((l) => l.url.endsWith(name)), `${name} fetched again`);
      assert.ok(again.some((l) => l.range && l.status === 206), 'an unfinished file resumed with Range');
      const total = fileSize * demo.files.length;
      const wasted = demo.bytesSent() - total;
      assert.ok(wasted <= 2 * 1024 * 1024 * 2, `re-downloaded ${wasted} bytes (limit: 1 MiB buffer + socket per file in flight)`);
      await assert.rejects(readdir(join(out, '.reelpack')), 'job state removed when done');
    });
  } finally {
    await demo.close();
  }
});

test('Ctrl-C stops with exit 130 and the same command resumes', async () => {
  const demo = await startDemoServer({ count: 3, size: 1024 * 1024, rateBytesPerSec: 1_000_000 });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const args = ['fetch', demo.url, '--out', out, '--json', '--zip', 'batch.zip'];
      const env = { REELPACK_HOME: join(dir, 'home') };
      const first = startCli(args, { ...env, MALLOC_ARENA_MAX: undefined }); // a preset value is left alone
      while (demo.bytesSent() < 500_000) await sleep(20);
      // The launcher re-executes itself in place with one malloc arena (bin/reelpack.js): the
      // same pid, and the zip worker inherits the setting.
      const arenaLimit = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('MALLOC_ARENA_MAX='));
      const workers = readFileSync(`/proc/${first.child.pid}/task/${first.child.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
      assert.equal(arenaLimit(first.child.pid!), 'MALLOC_ARENA_MAX=1');
      assert.equal(workers.length, 1, 'the zip worker runs');
      assert.equal(arenaLimit(Number(workers[0])), 'MALLOC_ARENA_MAX=1');
      first.child.kill('SIGINT');
      const stopped = await first.done;
      assert.equal(stopped.code, 130, stopped.stderr);
      assert.equal(stopped.summary?.error?.code, 'CANCELLED');
      const second = await runCli(args, env);
      assert.equal(second.code, 0, second.stderr);
      const zip = join(out, 'batch.zip');
      execFileSync('unzip', ['-tq', zip]);
      assert.equal(second.summary?.outputs[0]?.path, zip);
    });
  } finally {
    await demo.close();
  }
});

test('a second run on the same destination is refused while the first works', async () => {
  const demo = await startDemoServer({ count: 2, size: 1024 * 1024, rateBytesPerSec: 500_000 });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const env = { REELPACK_HOME: join(dir, 'home') };
      const first = startCli(['fetch', demo.url, '--out', out, '--mode', 'folder', '--json'], env);
      while (demo.bytesSent() < 100_000) await sleep(20);
      const second = await runCli(['fetch', demo.url, '--out', out, '--mode', 'folder'], env);
      assert.equal(second.code, 2);
      assert.match(second.stderr, /another reelpack \(pid \d+\) is already working/);
      first.child.kill('SIGKILL');
      await first.done;
      // A lock left by a killed run does not block the next one.
      const third = await runCli(['fetch', demo.url, '--out', out, '--mode', 'folder', '--json'], env);
      assert.equal(third.code, 0, third.stderr);
    });
  } finally {
    await demo.close();
  }
});

test('a file in a local folder that cannot be read fails alone: the others arrive, and --allow-partial finishes without it', async () => {
  await withTemp(async (dir) => {
    // Root reads any file: as root, the command runs as nobody (65534) so the permission holds.
    const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    const src = join(dir, 'src');
    await mkdir(src);
    const data = { 'a.mp4': randomBytes(3000), 'b.mp4': randomBytes(3000), 'c.mp4': randomBytes(3000) };
    for (const [name, bytes] of Object.entries(data)) await writeFile(join(src, name), bytes, { mode: 0o644 });
    await chmod(join(src, 'b.mp4'), 0o000);
    const home = join(dir, 'home');
    await mkdir(home);
    await chmod(dir, 0o755);
    if (user) await chown(home, user.uid, user.gid);
    const run = async (out: string, extra: string[]) => {
      await mkdir(out, { recursive: true });
      if (user) await chown(out, user.uid, user.gid);
      return runCli(['fetch', src, '--out', out, '--mode', 'folder', '--json', '--retries', '1', ...extra], { REELPACK_HOME: home }, { user });
    };
    const strict = await run(join(dir, 'strict'), []);
    assert.equal(strict.code, 1, strict.stderr);
    assert.equal(strict.summary?.error, undefined, 'not a job-stopping error');
    assert.deepEqual(strict.summary?.failed.map((f) => f.name), ['b.mp4']);
    assert.match(strict.summary?.failed[0]?.reason ?? '', /EACCES/);
    for (const name of ['a.mp4', 'c.mp4']) assert.ok((await readFile(join(dir, 'strict', name))).equals(data[name as 'a.mp4']), name);
    const partial = await run(join(dir, 'partial'), ['--allow-partial']);
    assert.equal(partial.summary?.files, 2, partial.stderr);
    assert.ok(partial.events.some((e) => e.type === 'summary' && e.failed.length === 1));
    // A file of the same size already in the destination that cannot be read is not taken for
    // this one (nor does it stop the job): the new one gets the next name.
    const taken = join(dir, 'taken');
    await mkdir(taken);
    await writeFile(join(taken, 'a.mp4'), randomBytes(3000), { mode: 0o000 });
    const beside = await run(taken, ['--allow-partial']);
    assert.equal(beside.summary?.error, undefined, JSON.stringify(beside.summary));
    assert.ok((await readFile(join(taken, 'a (2).mp4'))).equals(data['a.mp4']));
  });
});

test('names that get in the way: a file in the destination named like a listed folder, and long names that need a number', async () => {
  await withTemp(async (dir) => {
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    const long = `${'a'.repeat(196)}.mp4`; // 200 bytes; its case twin needs " (2)", and must stay within 200
    const data = { 'sub/a.mp4': randomBytes(2000), 'b.mp4': randomBytes(2000), [long]: randomBytes(2000), [long.toUpperCase()]: randomBytes(2000) };
    for (const [name, bytes] of Object.entries(data)) await writeFile(join(src, name), bytes);
    const out = join(dir, 'out');
    await mkdir(out);
    await writeFile(join(out, 'sub'), 'a file that is not the folder'); // where the folder "sub" would go
    const run = await runCli(['fetch', src, '--out', out, '--mode', 'both', '--zip', 'all.zip', '--json'], { REELPACK_HOME: join(dir, 'home') });
    assert.equal(run.code, 0, run.stderr + JSON.stringify(run.summary));
    assert.equal(await readFile(join(out, 'sub'), 'utf8'), 'a file that is not the folder');
    assert.ok((await readFile(join(out, 'sub (2)', 'a.mp4'))).equals(data['sub/a.mp4']));
    const entries = execFileSync('unzip', ['-Z1', join(out, 'all.zip')], { encoding: 'utf8' }).split('\n').filter((n) => /\.mp4$/i.test(n));
    assert.equal(entries.length, 4);
    assert.ok(entries.every((n) => n.split('/').every((segment) => Buffer.byteLength(segment) <= 200)), entries.join(' '));
    execFileSync('unzip', ['-tq', join(out, 'all.zip')]);
  });
});

test('a destination that refuses a file (too large for its file system) stops the job with WRITE_FAILED, instead of downloading it again and again', async () => {
  // `ulimit -f` stands in for FAT32's 4 GiB: writes past 4 MiB fail with EFBIG.
  const demo = await startDemoServer({ count: 1, size: 12 * 1024 * 1024 });
  try {
    await withTemp(async (dir) => {
      const { code, summary, stdout } = await runCli(['fetch', demo.url, '--out', join(dir, 'out'), '--mode', 'folder', '--json'], { REELPACK_HOME: join(dir, 'home') }, { fileSizeLimitKiB: 4096, timeoutMs: 60_000 });
      assert.equal(code, 1);
      assert.equal(summary?.error?.code, 'WRITE_FAILED', stdout.slice(-400));
      assert.match(summary?.error?.message ?? '', /larger than the destination's file system allows/);
      assert.ok(summary && summary.networkBytes < 24 * 1024 * 1024, 'downloaded once at most, not retried');
    });
  } finally {
    await demo.close();
  }
});

test('an archive too large for its file system (FAT32) stops with WRITE_FAILED; run again with --volume-size, the job goes on in volumes without downloading again', async () => {
  // `ulimit -f 8192` stands in for FAT32's 4 GiB: each 3 MiB download fits, the 9 MiB archive does not.
  const demo = await startDemoServer({ count: 3, size: 3 * 1024 * 1024 });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const fetchUnderLimit = (extra: string[]) =>
        runCli(['fetch', demo.url, '--out', out, '--zip', 'batch.zip', '--json', ...extra], { REELPACK_HOME: join(dir, 'home') }, { fileSizeLimitKiB: 8192, timeoutMs: 60_000 });
      const first = await fetchUnderLimit([]);
      assert.equal(first.code, 1, first.stdout.slice(-400));
      assert.equal(first.summary?.error?.code, 'WRITE_FAILED');
      assert.match(first.summary?.error?.message ?? '', /the archive is larger than the destination's file system allows .*run again with volumes \(--volume-size 4000m\)/);
      const second = await fetchUnderLimit(['--volume-size', '4m']);
      assert.equal(second.code, 0, second.stdout.slice(-600));
      assert.equal(second.summary?.networkBytes, 0, 'nothing downloaded again');
      assert.ok(second.events.some((e) => e.type === 'warning' && /goes on with --volume-size 4m \(no archive of it was finished yet\)/.test(e.message)));
      assert.deepEqual(second.summary?.outputs.map((o) => basename(o.path)), ['batch.part1.zip', 'batch.part2.zip', 'batch.part3.zip']);
      for (const output of second.summary!.outputs) execFileSync('unzip', ['-tq', output.path]);
      assert.deepEqual((await readdir(out)).sort(), ['batch.part1.zip', 'batch.part2.zip', 'batch.part3.zip'], 'no .zip.part left');
    });
  } finally {
    await demo.close();
  }
});

test('a URL list read from a pipe is listed whole; a second Ctrl-C ends the command at once even while a read blocks', async () => {
  await withTemp(async (dir) => {
    const pipe = join(dir, 'urls');
    execFileSync('mkfifo', [pipe]);
    // Written while `list` reads it: the list is not sniffed for binary (that would eat its start).
    const writer = spawn('sh', ['-c', `printf 'http://127.0.0.1:9/a.mp4\\nhttp://127.0.0.1:9/b.mp4\\n' > "${pipe}"`]);
    const written = once(writer, 'close');
    const listed = await runCli(['list', pipe]);
    await written;
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /a\.mp4[\s\S]*b\.mp4[\s\S]*2 files/);

    // Nobody writes to the pipe now: reading it blocks in one of libuv's threads, which
    // process.exit() would wait for.
    const run = startCli(['fetch', pipe, '--out', join(dir, 'out'), '--json'], { REELPACK_HOME: join(dir, 'home') }, { timeoutMs: 30_000 });
    await sleep(1000);
    run.child.kill('SIGINT');
    await sleep(300);
    run.child.kill('SIGINT');
    const started = Date.now();
    const result = await run.done;
    assert.ok(result.signal === 'SIGINT' || result.code === 130, `ended by ${result.signal ?? result.code}`);
    assert.ok(Date.now() - started < 10_000, 'the second Ctrl-C ended it');
  });
});

test('--only-new fetches just the results not fetched before', async () => {
  const demo = await startDemoServer({ count: 4, size: 1000 });
  try {
    await withTemp(async (dir) => {
      const env = { REELPACK_HOME: join(dir, 'home') };
      const first = await runCli(['fetch', demo.url, '--out', join(dir, 'a'), '--mode', 'folder', '--json', '--only-new'], env);
      assert.equal(first.summary?.files, 4);
      // The listing's count as it goes (one page here).
      assert.ok(first.events.some((e) => e.type === 'listing' && e.found === 4 && e.total === 4), JSON.stringify(first.events.slice(0, 3)));
      // The same server typed another way (no scheme, the API endpoint with a page) is the same catalog.
      const sameServer = `${new URL(demo.url).host}/api/results?page=1`;
      const second = await runCli(['fetch', sameServer, '--out', join(dir, 'b'), '--mode', 'folder', '--json', '--only-new'], env);
      assert.equal(second.code, 0);
      assert.equal(second.summary?.files, 0);
      assert.ok(second.events.some((e) => e.type === 'warning' && /nothing new/.test(e.message)));
      // Without --only-new the batch is fetched again, and the run says so at the start.
      const third = await runCli(['fetch', demo.url, '--out', join(dir, 'c'), '--mode', 'folder', '--json'], env);
      assert.equal(third.code, 0);
      const again = third.events.find((e) => e.type === 'warning' && /fetched from this source before/.test(e.message));
      assert.equal(again?.type === 'warning' && again.message, 'all 4 results were fetched from this source before and are fetched again; --only-new fetches only the new ones');
    });
  } finally {
    await demo.close();
  }
});

test('40 files of 8 MiB from nginx arrive byte-identical, loose and zipped', async () => {
  await withTemp(async (dir) => {
    const root = join(dir, 'www');
    await mkdir(root);
    const files = Array.from({ length: 40 }, (_, i) => ({ name: `clip_${String(i).padStart(2, '0')}.mp4`, data: randomBytes(8 * 1024 * 1024) }));
    await Promise.all(files.map((f) => writeFile(join(root, f.name), f.data)));
    const nginx = await startNginx(root);
    try {
      const env = { REELPACK_HOME: join(dir, 'home') };
      const loose = await runCli(['fetch', nginx.url, '--out', join(dir, 'loose'), '--mode', 'both', '--zip', 'all.zip', '--json'], env);
      assert.equal(loose.code, 0, loose.stderr);
      for (const f of files) assert.ok((await readFile(join(dir, 'loose', f.name))).equals(f.data), f.name);
      const zip = join(dir, 'loose', 'all.zip');
      execFileSync('unzip', ['-tq', zip]);
      execFileSync('unzip', ['-q', zip, '-d', join(dir, 'unzipped')]);
      for (const f of files) assert.ok((await readFile(join(dir, 'unzipped', f.name))).equals(f.data), `${f.name} in the zip`);
      execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: join(dir, 'unzipped') });
    } finally {
      await nginx.close();
    }
  });
});

test('one video given directly, by URL or local path, arrives loose and zipped', async () => {
  await withTemp(async (dir) => {
    const root = join(dir, 'www');
    await mkdir(root);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(join(root, 'take 7.mp4'), data);
    const nginx = await startNginx(root);
    try {
      const env = { REELPACK_HOME: join(dir, 'home') };
      const byUrl = await runCli(['fetch', `${nginx.url}/take%207.mp4`, '--out', join(dir, 'url'), '--mode', 'both', '--zip', 'one.zip', '--json'], env);
      assert.equal(byUrl.code, 0, byUrl.stderr);
      assert.ok((await readFile(join(dir, 'url', 'take 7.mp4'))).equals(data));
      execFileSync('unzip', ['-tq', join(dir, 'url', 'one.zip')]);
      const byPath = await runCli(['fetch', join(root, 'take 7.mp4'), '--out', join(dir, 'path'), '--json'], env);
      assert.equal(byPath.code, 0, byPath.stderr);
      const [archive, ...others] = await readdir(join(dir, 'path'));
      assert.deepEqual(others, []);
      assert.match(archive!, /^take_7_results_\d{8}_\d{4}\.zip$/, 'named after the video, without its extension');
      execFileSync('unzip', ['-q', join(dir, 'path', archive!), '-d', join(dir, 'unzipped')]);
      assert.ok((await readFile(join(dir, 'unzipped', 'take 7.mp4'))).equals(data));
      assert.ok((await readFile(join(root, 'take 7.mp4'))).equals(data), 'the source is left as it was');
    } finally {
      await nginx.close();
    }
  });
});

test('kill -9 during a segmented download: every range resumes, the file is identical', async () => {
  const size = 70 * 1024 * 1024;
  const log: Array<{ method: string; url: string; range?: string | undefined; status: number }> = [];
  const demo = await startDemoServer({ count: 1, size, rateBytesPerSec: 6_000_000, log });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const args = ['fetch', demo.url, '--out', out, '--mode', 'folder', '--json', '--segments', '4'];
      const env = { REELPACK_HOME: join(dir, 'home') };
      const first = startCli(args, env);
      while (demo.bytesSent() < size / 2) await sleep(20);
      first.child.kill('SIGKILL');
      await first.done;
      const firstRanges = log.filter((l) => l.url.startsWith('/outputs/')).length;
      assert.equal(firstRanges, 4, 'four connections');
      const sentBefore = demo.bytesSent();
      const second = await runCli(args, env);
      assert.equal(second.code, 0, second.stderr);
      assert.ok((await readFile(join(out, 'result_0001.mp4'))).equals(demo.files[0]!.data));
      const resumed = log.filter((l) => l.url.startsWith('/outputs/')).slice(firstRanges).map((l) => l.range ?? '');
      assert.equal(resumed.length, 4, JSON.stringify(resumed));
      assert.ok(resumed.every((r) => /^bytes=\d+-\d+$/.test(r)), JSON.stringify(resumed));
      const wasted = sentBefore + (demo.bytesSent() - sentBefore) - size;
      assert.ok(wasted <= 4 * 8 * 1024 * 1024, `downloaded ${wasted} bytes twice (≤ one second of each of 4 ranges)`);
    });
  } finally {
    await demo.close();
  }
});

test('--token goes only to the source\'s origin: not to files listed on another host, not through a redirect there', async () => {
  const body = randomBytes(50_000);
  const seen: Array<{ server: string; path: string; auth: string | undefined }> = [];
  const serve = (name: string, handle: (req: IncomingMessage, res: ServerResponse) => void) => {
    const server = createServer((req, res) => {
      seen.push({ server: name, path: req.url ?? '', auth: req.headers.authorization });
      handle(req, res);
    });
    server.listen(0, '127.0.0.1');
    return server;
  };
  const file = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length }).end(body);
  const other = serve('other', (_req, res) => file(res));
  const source = serve('source', (req, res) => {
    if (req.url === '/list.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end([`${origin(source)}/own.mp4`, `${origin(other)}/cdn.mp4`, `${origin(source)}/moved.mp4`].join('\n'));
    } else if (req.url === '/moved.mp4') {
      res.writeHead(302, { location: `${origin(other)}/moved-there.mp4` }).end();
    } else file(res);
  });
  const origin = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await Promise.all([once(source, 'listening'), once(other, 'listening')]);
    await withTemp(async (dir) => {
      // Typed without http://, as users do: still the source's origin.
      const result = await runCli(['fetch', `${origin(source).replace('http://', '')}/list.txt`, '--out', join(dir, 'out'), '--mode', 'folder', '--token', 's3cret', '--json'], { REELPACK_HOME: join(dir, 'home') });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.summary?.files, 3);
    });
    const bySource = seen.filter((s) => s.server === 'source');
    for (const path of ['/list.txt', '/own.mp4', '/moved.mp4']) assert.ok(bySource.some((s) => s.path === path), `${path} asked of the source`);
    assert.ok(bySource.every((s) => s.auth === 'Bearer s3cret'), JSON.stringify(bySource));
    const byOther = seen.filter((s) => s.server === 'other');
    assert.deepEqual([...new Set(byOther.map((s) => s.path))].sort(), ['/cdn.mp4', '/moved-there.mp4']);
    assert.deepEqual(byOther.filter((s) => s.auth !== undefined), [], 'no token to another host');
  } finally {
    source.close();
    other.close();
  }
});

test('a destination holding an unfinished job is refused (exit 2) for another source, or for a journal of another version', async () => {
  const demo = await startDemoServer({ count: 3, size: 10_000, faults: (_req, file) => (file?.name === 'result_0002.mp4' ? { kind: 'status', status: 410 } : undefined) });
  try {
    await withTemp(async (dir) => {
      const out = join(dir, 'out');
      const env = { REELPACK_HOME: join(dir, 'home') };
      const first = await runCli(['fetch', demo.url, '--out', out, '--mode', 'folder'], env);
      assert.equal(first.code, 1, first.stderr); // one file failed: the job stays, unfinished
      const before = (await readdir(out)).sort();
      const local = join(dir, 'local');
      await mkdir(local);
      await writeFile(join(local, 'a.mp4'), 'a');
      const other = await runCli(['fetch', local, '--out', out], env);
      assert.equal(other.code, 2, other.stderr);
      assert.match(other.stderr, /holds an unfinished job for http:\/\/127\.0\.0\.1:\d+\/; run that again to finish it, or choose another folder/);
      const journal = join(out, '.reelpack', 'journal.ndjson');
      const lines = (await readFile(journal, 'utf8')).split('\n');
      lines[0] = lines[0]!.replace('"v":1', '"v":2');
      await writeFile(journal, lines.join('\n'));
      const newer = await runCli(['fetch', demo.url, '--out', out, '--mode', 'folder'], env);
      assert.equal(newer.code, 2, newer.stderr);
      assert.match(newer.stderr, /written by another version of Reelpack \(journal version 2, this one reads 1\)/);
      assert.deepEqual((await readdir(out)).sort(), before, 'nothing in the folder touched');
    });
  } finally {
    await demo.close();
  }
});

test('a server that is down is reported once in plain output, not one "retrying" line per file and try', async () => {
  await withTemp(async (dir) => {
    const port = await freePort(); // nothing listens yet: refused
    const body = randomBytes(50_000);
    await writeFile(join(dir, 'list.txt'), [1, 2, 3, 4].map((i) => `http://127.0.0.1:${port}/clip${i}.mp4\n`).join(''));
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length }).end(body));
    const up = sleep(2500).then(() => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)));
    try {
      const result = await runCli(['fetch', join(dir, 'list.txt'), '--out', join(dir, 'out'), '--mode', 'folder', '--retries', '1']);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stderr.split('\n');
      assert.equal(lines.filter((l) => l.startsWith('waiting for the server')).length, 1, result.stderr);
      assert.match(result.stderr, /waiting for the server \(up to 10 min\): cannot reach the server \(ECONNREFUSED\)/);
      assert.equal(lines.filter((l) => l.startsWith('retrying')).length, 0, result.stderr);
      assert.equal((await readdir(join(dir, 'out'))).filter((n) => n.endsWith('.mp4')).length, 4);
    } finally {
      await up;
      server.close();
    }
  });
});

test('a reader that goes away (| head) interrupts a fetch with 130, never 0: the job is not complete', async () => {
  const demo = await startDemoServer({ count: 20, size: 200_000, rateBytesPerSec: 400_000 });
  try {
    await withTemp(async (dir) => {
      const { child, done } = startCli(['fetch', demo.url, '--out', join(dir, 'out'), '--json']);
      child.stdout!.once('data', () => child.stdout!.destroy()); // read one line, then close the pipe
      const result = await done;
      assert.equal(result.code, 130, result.stderr);
      assert.ok((await readdir(join(dir, 'out'))).includes('.reelpack'), 'the job is saved to resume');
    });
  } finally {
    await demo.close();
  }
});

test('names from the server cannot drive the terminal: control characters are shown as \\xNN', async () => {
  const evil = ['ctl\u0001\u001b[31mred\u0007.mp4', 'new\nline.mp4'];
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/results')) {
      const items = [
        ...evil.map((name, k) => ({ id: `r${k}`, name, url: `/f${k}.mp4`, size: 3 })),
        { id: 'p', name: 'evil\u001b]0;pwned\u0007\u001b[2J.mp4', url: '/p.mp4', status: 'processing' },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, page: 1, page_size: 20, total: 3 }));
      return;
    }
    res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': 3 }).end('abc');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await withTemp(async (dir) => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const listed = await runCli(['list', url]);
      assert.equal(listed.code, 0, listed.stderr);
      const fetched = await runCli(['fetch', url, '--out', join(dir, 'out')]);
      assert.equal(fetched.code, 0, fetched.stderr);
      for (const text of [listed.stdout, listed.stderr, fetched.stderr]) assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, JSON.stringify(text));
      assert.match(listed.stdout, /ctl\\x01\\x1b\[31mred\\x07\.mp4/);
      assert.match(listed.stdout, /new\\x0aline\.mp4/);
      assert.match(fetched.stderr, /skipped evil\\x1b\]0;pwned\\x07\\x1b\[2J\.mp4: status is "processing"/);
    });
  } finally {
    server.close();
  }
});

test('a job refused for space before it begins leaves nothing behind: a rerun may choose other settings', { skip: cannotMountTmpfs() ?? false }, async () => {
  const demo = await startDemoServer({ count: 6, size: 1024 * 1024 });
  try {
    await withTmpfs(8, async (mount) => {
      const out = join(mount, 'out');
      // ZIP mode stages the downloads: ~12 MB for 6 MB of files, more than the 8 MB disk.
      const refused = await runCli(['fetch', demo.url, '--out', out]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /not enough free space/);
      assert.doesNotMatch(refused.stderr, /the job is saved/);
      assert.deepEqual(await readdir(out), [], 'no .reelpack left to hold the next run to these settings');
      // Loose files only need the batch once: that fits, with no "earlier settings" warning.
      const folder = await runCli(['fetch', demo.url, '--out', out, '--mode', 'folder']);
      assert.equal(folder.code, 0, folder.stderr);
      assert.doesNotMatch(folder.stderr, /earlier settings/);
    });
  } finally {
    await demo.close();
  }
});

test('a SIGTERM (kill, a service manager) stops a fetch under a low --limit-rate at once, not after its pause (minutes at 1 KB/s), with exit 143', async () => {
  const demo = await startDemoServer({ count: 3, size: 200_000 });
  try {
    await withTemp(async (dir) => {
      // Killed (signal SIGKILL, no exit code) if it is still running 15 s after the start.
      const { child, done } = startCli(['fetch', demo.url, '--out', join(dir, 'out'), '--limit-rate', '1k', '--json'], {}, { timeoutMs: 15_000 });
      await sleep(2000); // well into a rate-limit pause of a minute or more
      child.kill('SIGTERM');
      const result = await done;
      assert.equal(result.code, 143, `${result.signal ?? ''} ${result.stderr}`);
      assert.equal(result.summary?.error?.code, 'CANCELLED');
    });
  } finally {
    await demo.close();
  }
});
