// Bad input everywhere a user or a file can put it — flags, source URLs and paths, URL-list
// files, archives handed to `verify`: a clear one-line error and the documented exit code,
// never a crash or a stack trace. (test/cli/fetch.test.ts covers the first handful of flags.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/servers.ts';
import { startDemoServer } from '../servers/demo-server.ts';
import { record, runCliIn, stackTrace } from './reliability-kit.ts';

interface Case {
  args: (ctx: Ctx) => string[];
  /** Runs first (e.g. an earlier, rejected command on the same destination). */
  before?: (ctx: Ctx) => Promise<void>;
  code: number;
  /** The error code in the --json summary, for fetch. */
  error?: string;
  stderr?: RegExp;
  todo?: string;
  /** Kill the command after this long (a hang is a failure too). */
  timeoutMs?: number;
}

interface Ctx {
  dir: string;
  url: string;
  /** A fresh destination for each case. */
  out: string;
}
const out = (ctx: Ctx) => ctx.out;
const cases: Record<string, Case> = {
  'negative --retries': { args: (c) => ['fetch', c.url, '-o', out(c), '--retries', '-1'], code: 2, stderr: /--retries/ },
  '--stall-timeout 0': { args: (c) => ['fetch', c.url, '-o', out(c), '--stall-timeout', '0'], code: 2, stderr: /--stall-timeout/ },
  '--depth 33': { args: (c) => ['fetch', c.url, '-o', out(c), '--depth', '33'], code: 2, stderr: /--depth/ },
  '--concurrency 2.5': { args: (c) => ['fetch', c.url, '-o', out(c), '--concurrency', '2.5'], code: 2, stderr: /--concurrency/ },
  '--concurrency 1e3': { args: (c) => ['fetch', c.url, '-o', out(c), '--concurrency', '1e3'], code: 2, stderr: /--concurrency/ },
  '--kind nope': { args: (c) => ['fetch', c.url, '-o', out(c), '--kind', 'nope'], code: 2, stderr: /Allowed choices/ },
  'unknown flag': { args: (c) => ['fetch', c.url, '-o', out(c), '--frobnicate'], code: 2, stderr: /unknown option/ },
  'no source': { args: (c) => ['fetch', '-o', out(c)], code: 2, stderr: /missing required argument/ },
  '--volume-size below the minimum': { args: (c) => ['fetch', c.url, '-o', out(c), '--volume-size', '1k', '--json'], code: 2, error: 'USAGE', stderr: /volume size too small/ },
  '--zip inside the job\'s working folder': { args: (c) => ['fetch', c.url, '-o', out(c), '--zip', '.reelpack/j.zip', '--json'], code: 2, error: 'USAGE', stderr: /the job's working folder/ },
  '--volume-size 0': { args: (c) => ['fetch', c.url, '-o', out(c), '--volume-size', '0', '--json'], code: 2, stderr: /size/ },
  '--out is a file': { args: (c) => ['fetch', c.url, '-o', join(c.dir, 'a-file'), '--json'], code: 2, error: 'USAGE', stderr: /cannot create destination/ },
  '--out under /dev/null': { args: (c) => ['fetch', c.url, '-o', '/dev/null/out', '--json'], code: 2, error: 'USAGE', stderr: /cannot create destination/ },
  '--out under /proc': {
    args: (c) => ['fetch', c.url, '-o', '/proc/reelpack-nope/out', '--json'], code: 2, error: 'USAGE', stderr: /cannot create destination/, timeoutMs: 3000,
  },
  '--kind folder with a URL': { args: (c) => ['fetch', c.url, '-o', out(c), '--kind', 'folder', '--json'], code: 2, error: 'USAGE', stderr: /--kind folder/ },
  'a corrected --volume-size after a rejected one': {
    before: async (c) => void (await runCliIn(c.dir, ['fetch', c.url, '-o', c.out, '--volume-size', '1k'], { REELPACK_HOME: join(c.dir, 'home') })),
    args: (c) => ['fetch', c.url, '-o', c.out, '--volume-size', '10m', '--json'],
    code: 0,
  },
  'a token with CR LF (header injection)': { args: (c) => ['fetch', c.url, '-o', out(c), '--token', 'x\r\nX-Evil: 1', '--json'], code: 2, stderr: /token/i },
  'empty source': { args: (c) => ['fetch', '', '-o', out(c), '--json'], code: 2, error: 'USAGE', stderr: /no source given/ },
  'http:// with no host': { args: (c) => ['fetch', 'http://', '-o', out(c), '--json'], code: 2, error: 'USAGE', stderr: /not a valid URL/ },
  'unclosed IPv6 bracket': { args: (c) => ['fetch', 'http://[::1', '-o', out(c), '--json'], code: 2, error: 'USAGE', stderr: /not a valid URL/ },
  'port 99999': { args: (c) => ['fetch', 'http://127.0.0.1:99999/', '-o', out(c), '--json'], code: 2, error: 'USAGE', stderr: /not a valid URL/ },
  'a closed port': { args: (c) => ['fetch', 'http://127.0.0.1:1/', '-o', out(c), '--json'], code: 2, error: 'SOURCE_UNUSABLE', stderr: /cannot reach/ },
  'file: URL': { args: (c) => ['fetch', 'file:///etc/passwd', '-o', out(c), '--json'], code: 2, error: 'USAGE', stderr: /unsupported URL scheme/ },
  'javascript: "URL"': { args: (c) => ['fetch', 'javascript:alert(1)', '-o', out(c), '--json'], code: 2, error: 'SOURCE_UNUSABLE', stderr: /no such file/ },
  'a 100 KB URL': { args: (c) => ['fetch', `${c.url}/${'a'.repeat(100_000)}`, '-o', out(c), '--json'], code: 2, error: 'SOURCE_UNUSABLE', stderr: /HTTP 431/ },
  'a URL list of junk': { args: (c) => ['fetch', join(c.dir, 'junk.txt'), '-o', out(c), '--json'], code: 2, error: 'BAD_LISTING', stderr: /no line of the URL list is an http\(s\) URL/ },
  'a URL list over 64 MiB': { args: (c) => ['fetch', join(c.dir, 'huge.txt'), '-o', out(c), '--json'], code: 2, error: 'BAD_LISTING', stderr: /64 MiB/ },
  'a URL list of non-http URLs': { args: (c) => ['fetch', join(c.dir, 'schemes.txt'), '-o', out(c), '--json'], code: 2, error: 'BAD_LISTING' },
  'a JSON URL list that is not a list': { args: (c) => ['fetch', join(c.dir, 'weird.json'), '-o', out(c), '--json'], code: 2, error: 'BAD_LISTING', stderr: /"files" array/ },
  'list: a closed port': { args: () => ['list', 'http://127.0.0.1:1/'], code: 2, stderr: /cannot reach/ },
  'list --json: bad URL': { args: () => ['list', 'http://[::1', '--json'], code: 2, stderr: /not a valid URL/ },
  'verify: a missing file': { args: (c) => ['verify', join(c.dir, 'missing.zip')], code: 1 },
  'verify: an empty file': { args: (c) => ['verify', join(c.dir, 'empty.zip')], code: 1 },
  'verify: random bytes': { args: (c) => ['verify', join(c.dir, 'random.zip')], code: 1 },
  'verify: a folder': { args: (c) => ['verify', c.dir], code: 1 },
  'verify: a truncated archive': { args: (c) => ['verify', join(c.dir, 'truncated.zip')], code: 1 },
  'verify: a foreign zip without manifest': { args: (c) => ['verify', join(c.dir, 'foreign.zip')], code: 1 },
  'verify: a zip with "../" entries': { args: (c) => ['verify', join(c.dir, 'slip.zip')], code: 1 },
};

test('bad input everywhere: a clear error, the documented exit code, no stack trace', { timeout: 150_000 }, async (t) => {
  const dir = await tempDir('reelpack-bad-');
  const demo = await startDemoServer({ count: 2, size: 1000 });
  try {
    const d = dir.path;
    await writeFile(join(d, 'a-file'), 'not a folder');
    await writeFile(join(d, 'junk.txt'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 97) % 256)));
    await writeFile(join(d, 'huge.txt'), '');
    await truncate(join(d, 'huge.txt'), 65 * 1024 * 1024); // sparse: costs no disk
    await writeFile(join(d, 'schemes.txt'), 'file:///etc/passwd\nftp://127.0.0.1/x.mp4\njavascript:alert(1)\ndata:,x\n');
    await writeFile(join(d, 'weird.json'), '{"deep": {"deeper": [1, 2, {"url": 5}]}}');
    await writeFile(join(d, 'empty.zip'), '');
    await writeFile(join(d, 'random.zip'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 131 + 7) % 256)));
    await mkdir(join(d, 'src'));
    await writeFile(join(d, 'src', 'a.mp4'), Buffer.alloc(50_000, 1));
    execFileSync('zip', ['-q', '-0', join(d, 'foreign.zip'), 'a.mp4'], { cwd: join(d, 'src') });
    const foreign = execFileSync('cat', [join(d, 'foreign.zip')]);
    await writeFile(join(d, 'truncated.zip'), foreign.subarray(0, Math.floor(foreign.length * 0.6)));
    execFileSync('python3', ['-c', 'import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1],"w")\nz.writestr("../../evil.mp4","x")\nz.writestr("manifest.json","{}")\nz.close()', join(d, 'slip.zip')]);

    let tried = 0;
    for (const [i, [name, c]] of Object.entries(cases).entries()) {
      const ctx = { dir: d, url: demo.url, out: join(d, `out-${i}`) };
      await t.test(name, { todo: c.todo ?? false }, async () => {
        tried++;
        await c.before?.(ctx);
        const result = await runCliIn(d, c.args(ctx), { REELPACK_HOME: join(d, 'home') }, c.timeoutMs ?? 30_000);
        assert.equal(result.signal, null, 'the command hung and was killed');
        // With --json the error is in the summary; without it, on stderr.
        const message = result.stderr + (result.summary?.error?.message ?? '');
        const all = result.stdout + result.stderr;
        const shown = all.length > 2000 ? `${all.slice(0, 2000)}…` : all;
        assert.doesNotMatch(all, stackTrace, `stack trace or raw error:\n${shown}`);
        assert.equal(result.code, c.code, `exit ${result.code}:\n${shown}`);
        if (c.error) assert.equal(result.summary?.error?.code, c.error, result.stdout);
        if (c.stderr) assert.match(message, c.stderr);
        if (c.args(ctx)[0] === 'verify') assert.match(result.stdout, /^DAMAGED {2}.+\n {2}\S.+/, 'verify names the archive and the problem');
        assert.ok(result.stderr.split('\n').length <= 8, `the error is short:\n${shown}`);
      });
    }
    record('bad input', { hostile: tried });
  } finally {
    await demo.close();
    await dir.remove();
  }
});
