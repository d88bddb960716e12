// `npm run bench`: Reelpack side by side with curl, aria2c, `zip -0` and bsdtar on the same
// generated files in the same run (see the Performance section of the README).
//
// Part 1, for each data set (default 40 × 8 MiB, 1 × 1 GiB, 1000 × 1 MiB) served by nginx on
// 127.0.0.1, in alternation (the order rotates every round), several runs of:
//   download → disk:   curl --parallel, aria2c -j, reelpack fetch --mode folder
//   STORE bundling:    zip -0, bsdtar (store), reelpack fetch <local folder> --mode zip,
//                      and Reelpack's zip sink alone (test/bench/store-zip.ts)
//   end to end:        reelpack fetch --mode zip (download and bundle)
//   (and, on the largest set, reelpack --mode zip on a tenth of the files: is memory flat?)
// Part 2: nginx throttled per connection (limit_rate), one file: one connection vs segmented
// (aria2c -x4; reelpack --segments when it exists), and --limit-rate accuracy.
// Every command runs under /usr/bin/time (peak RSS); the tree's RSS/PSS is sampled from /proc.
// Writes test-artifacts/bench.json. `--quick` for a 1–2 minute run, `--smoke` for seconds.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildCli } from '../../build/build-cli.ts';
import { startNginx } from '../helpers/servers.ts';
import type { RunningServer } from '../helpers/servers.ts';
import { describeSet, MiB, writeDataFile, writeDataSet } from './bench-data.ts';
import type { DataSetSpec } from './bench-data.ts';
import { mark, speedRatio, summarize, target, targetTable, toolTable } from './bench-report.ts';
import type { Group, RunRecord, Target, ToolResult, ToolSummary } from './bench-report.ts';
import { runMeasured } from './run-measured.ts';
import type { Measured } from './run-measured.ts';
import type { VerifiedFile } from '../../electron/core/jobs/output-sink.ts';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const reelpackBin = path.join(repo, 'bin/reelpack.js');
const storeZipScript = path.join(repo, 'test/bench/store-zip.ts');

// ---------- options ----------

interface Profile {
  sets: DataSetSpec[];
  runs: number;
  throttleMiB: number;
  throttleRate: number;
  throttleRuns: number;
  limitMiB: number;
  limitRate: number;
}

const profiles: Record<'full' | 'quick' | 'smoke', Profile> = {
  full: {
    sets: [
      { key: 'small', count: 40, size: 8 * MiB, prefix: 'clip' },
      { key: 'big', count: 1, size: 1024 * MiB, prefix: 'long-take' },
      { key: 'many', count: 1000, size: 1 * MiB, prefix: 'result' },
    ],
    runs: 5, throttleMiB: 160, throttleRate: 20 * MiB, throttleRuns: 3, limitMiB: 96, limitRate: 24 * MiB,
  },
  quick: {
    sets: [
      { key: 'small', count: 40, size: 8 * MiB, prefix: 'clip' },
      { key: 'big', count: 1, size: 256 * MiB, prefix: 'long-take' },
      { key: 'many', count: 200, size: 1 * MiB, prefix: 'result' },
    ],
    runs: 3, throttleMiB: 96, throttleRate: 24 * MiB, throttleRuns: 1, limitMiB: 32, limitRate: 16 * MiB,
  },
  smoke: {
    sets: [
      { key: 'small', count: 4, size: 1 * MiB, prefix: 'clip' },
      { key: 'big', count: 1, size: 16 * MiB, prefix: 'long-take' },
      { key: 'many', count: 20, size: 64 * 1024, prefix: 'result' },
    ],
    runs: 1, throttleMiB: 64, throttleRate: 64 * MiB, throttleRuns: 1, limitMiB: 8, limitRate: 16 * MiB,
  },
};

const usage = `usage: npm run bench -- [options]
  --quick                 1–2 minute run (40 × 8 MiB, 1 × 256 MiB, 200 × 1 MiB, 3 runs)
  --smoke                 seconds (tiny files, 1 run): checks the harness, not the speed
  --runs <n>              runs of every tool per data set (full: 5)
  --sets <list>           which data sets: small,big,many (default all)
  --small <n>x<MiB>       e.g. 40x8        --big-mib <MiB>    e.g. 1024
  --many <n>x<KiB>        e.g. 1000x1024
  --concurrency <n>       parallel files for every tool (default 3, Reelpack's default)
  --no-throttle           skip part 2 (throttled server, segmented download)
  --no-limit              skip the --limit-rate accuracy check
  --throttle-mib <MiB>    file size for part 2 (full: 160)
  --throttle-rate <MiB/s> nginx limit_rate per connection (full: 20)
  --throttle-runs <n>     runs per tool in part 2 (full: 3)
  --out <file>            JSON report (default test-artifacts/bench.json)
  --sample-ms <ms>        /proc sampling interval for tree RSS (default 50; 0 = off)
  --no-sync               do not run sync(1) between runs
  --keep                  keep the generated data and print where it is
  --dir <path>            where to generate data (default: os.tmpdir())`;

const { values: flags } = parseArgs({
  allowNegative: true,
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    runs: { type: 'string' },
    sets: { type: 'string' },
    small: { type: 'string' },
    'big-mib': { type: 'string' },
    many: { type: 'string' },
    concurrency: { type: 'string', default: '3' },
    throttle: { type: 'boolean', default: true },
    limit: { type: 'boolean', default: true },
    'throttle-mib': { type: 'string' },
    'throttle-rate': { type: 'string' },
    'throttle-runs': { type: 'string' },
    out: { type: 'string', default: path.join(repo, 'test-artifacts/bench.json') },
    'sample-ms': { type: 'string', default: '50' },
    sync: { type: 'boolean', default: true },
    keep: { type: 'boolean', default: false },
    dir: { type: 'string', default: os.tmpdir() },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(usage);
  process.exit(0);
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) {
    console.error(`bench: ${name} must be a positive number, not ${JSON.stringify(value)}\n${usage}`);
    process.exit(2);
  }
  return n;
}

function countBySize(value: string | undefined, name: string, unit: number): { count: number; size: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)x(\d+(?:\.\d+)?)$/.exec(value);
  if (!m) {
    console.error(`bench: ${name} must look like 40x8, not ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return { count: Number(m[1]), size: Math.round(Number(m[2]) * unit) };
}

const profileName = flags.smoke ? 'smoke' : flags.quick ? 'quick' : 'full';
const profile: Profile = structuredClone(profiles[profileName]);
const small = countBySize(flags.small, '--small', MiB);
const many = countBySize(flags.many, '--many', 1024);
const bigMiB = positive(flags['big-mib'], '--big-mib');
for (const set of profile.sets) {
  if (set.key === 'small' && small) Object.assign(set, small);
  if (set.key === 'many' && many) Object.assign(set, many);
  if (set.key === 'big' && bigMiB) set.size = Math.round(bigMiB * MiB);
}
if (flags.sets) {
  const wanted = new Set(flags.sets.split(',').map((s) => s.trim()));
  profile.sets = profile.sets.filter((s) => wanted.has(s.key));
}
profile.runs = positive(flags.runs, '--runs') ?? profile.runs;
profile.throttleMiB = positive(flags['throttle-mib'], '--throttle-mib') ?? profile.throttleMiB;
profile.throttleRate = (positive(flags['throttle-rate'], '--throttle-rate') ?? profile.throttleRate / MiB) * MiB;
profile.throttleRuns = positive(flags['throttle-runs'], '--throttle-runs') ?? profile.throttleRuns;
const concurrency = positive(flags.concurrency, '--concurrency')!;
const sampleMs = Number(flags['sample-ms']);

// ---------- environment ----------

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(`bench: needs Node 24 (this is ${process.version}); run it with "npm run bench" or node_modules/.bin/node`);
  process.exit(2);
}
for (const tool of ['nginx', 'curl', 'aria2c', 'zip', 'bsdtar', '/usr/bin/time']) {
  try {
    await exec('sh', ['-c', `command -v ${tool}`]);
  } catch {
    console.error(`bench: ${tool} is not installed (apt-get install nginx curl aria2 zip libarchive-tools time)`);
    process.exit(2);
  }
}

// Measure what users run: bin/reelpack.js falls back to the TypeScript sources (0.15 s slower
// to start, ~30 MB more in each process) whenever the bundle is older than a source file.
// Not in --smoke, which runs inside `npm test` beside other tests that start the CLI.
if (profileName !== 'smoke') await buildCli();

/** What this build of the CLI can do: options appear in `reelpack fetch --help` once implemented. */
async function reelpackFeatures(): Promise<{ segments: 'count' | 'switch' | null; limitRate: boolean }> {
  const { stdout } = await exec(process.execPath, [reelpackBin, 'fetch', '--help']);
  const segments = /--segments\s+<[^>]+>/.test(stdout) ? 'count' : /--(no-)?segments\b/.test(stdout) ? 'switch' : null;
  return { segments, limitRate: /--limit-rate\b/.test(stdout) };
}
const features = await reelpackFeatures();

const log = (line = '') => process.stdout.write(line + '\n');
const progress = (line: string) => process.stderr.write(line + '\n');

const root = await fs.mkdtemp(path.join(flags.dir, 'reelpack-bench-'));
const dataRoot = path.join(root, 'data');
const workRoot = path.join(root, 'work');
const home = path.join(root, 'home'); // REELPACK_HOME: keeps the bench out of the user's catalog
const servers: RunningServer[] = [];
let cleanedUp = false;

async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const server of servers) await server.close().catch(() => {});
  if (flags.keep) progress(`data kept in ${root}`);
  else await fs.rm(root, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`\n${signal}: cleaning up…`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function syncDisk(): Promise<void> {
  if (flags.sync) await exec('sync').catch(() => {});
}

/** fsync every file under `dir` (or the file itself); seconds taken. */
async function fsyncAll(target: string): Promise<number> {
  const start = performance.now();
  const stats = await fs.stat(target).catch(() => null);
  const files = !stats ? [] : stats.isFile() ? [target] : (await fs.readdir(target, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  for (const file of files) {
    const fh = await fs.open(file, 'r');
    await fh.sync();
    await fh.close();
  }
  return (performance.now() - start) / 1000;
}

// ---------- tools ----------

interface Tool {
  id: string;
  label: string;
  group: Group;
  bytes: number;
  /** Command line as shown in the report ({out} for the output folder). */
  display: string;
  command(out: string): { cmd: string; args: string[]; cwd?: string; timeLines?: boolean };
  /** Throws when the run did not produce what it should; may return extra per-run numbers. */
  check(m: Measured, out: string): Promise<Record<string, number> | void>;
  /** Output to fsync after the run (the "+fsync" column): folder or file. */
  durable(out: string): string;
  skipped?: string;
}

function reelpackSummary(m: Measured): { ok: boolean; files: number; outputs: Array<{ path: string; size: number }>; error?: { message: string } } {
  const last = m.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as ReturnType<typeof reelpackSummary>;
  } catch {
    throw new Error(`no JSON summary (exit ${m.code}): ${m.stderr.trim().slice(-300)}`);
  }
}

function expectExit(m: Measured, what: string): void {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code ?? m.signal}: ${m.stderr.trim().slice(-300)}`);
}

async function expectFolder(out: string, files: readonly { name: string; size: number }[]): Promise<void> {
  for (const file of files) {
    const stats = await fs.stat(path.join(out, file.name)).catch(() => null);
    if (stats?.size !== file.size) throw new Error(`${file.name}: ${stats ? `${stats.size} bytes, expected ${file.size}` : 'missing'}`);
  }
}

async function expectZip(file: string, minBytes: number): Promise<void> {
  const stats = await fs.stat(file).catch(() => null);
  if (!stats || stats.size < minBytes) throw new Error(`${file}: ${stats ? `only ${stats.size} bytes` : 'missing'}`);
}

function reelpackTool(id: string, label: string, group: Group, bytes: number, source: string, extra: string[], check: (m: Measured, out: string) => Promise<Record<string, number> | void>): Tool {
  const args = (out: string) => [reelpackBin, 'fetch', source, '--out', out, '--json', '--concurrency', String(concurrency), ...extra];
  return {
    id, label, group, bytes,
    display: `reelpack fetch ${source.startsWith(root) ? path.relative(root, source) : source} --out {out} --json --concurrency ${concurrency} ${extra.join(' ')}`.trim(),
    command: (out) => ({ cmd: process.execPath, args: args(out), timeLines: true }),
    check: async (m, out) => {
      const summary = reelpackSummary(m);
      if (!summary.ok) throw new Error(`reelpack failed: ${summary.error?.message ?? m.stderr.trim().slice(-300)}`);
      return check(m, out);
    },
    durable: (out) => out,
  };
}

interface SetContext {
  spec: DataSetSpec;
  dir: string;
  files: VerifiedFile[];
  bytes: number;
  url: string;
  urlFile: string;
  listFile: string;
  subsetFile: string;
  subsetCount: number;
  /** Every file twice (the second time as `again/<name>`, URL `?copy=2`): is memory flat beyond warm-up? */
  doubleFile: string;
}

function setTools(ctx: SetContext): Tool[] {
  const { files, bytes } = ctx;
  const names = files.map((f) => ({ name: f.safePath, size: f.size }));
  const urls = files.map((f) => ctx.url + encodeURIComponent(f.safePath));
  const subset = files.slice(0, ctx.subsetCount);
  const subsetBytes = subset.reduce((s, f) => s + f.size, 0);
  const c = String(concurrency);
  const zipName = 'bench.zip';
  const tools: Tool[] = [
    {
      id: 'curl', label: `curl --parallel-max ${c}`, group: 'download', bytes,
      display: `curl -sS --fail --parallel --parallel-max ${c} --output-dir {out} --remote-name-all <${files.length} URLs>`,
      command: (out) => ({ cmd: 'curl', args: ['-sS', '--fail', '--parallel', '--parallel-max', c, '--output-dir', out, '--remote-name-all', ...urls] }),
      check: async (m, out) => { expectExit(m, 'curl'); await expectFolder(out, names); },
      durable: (out) => out,
    },
    {
      id: 'aria2c', label: `aria2c -j${c} -x1`, group: 'download', bytes,
      display: `aria2c -q -i urls.txt -d {out} -j ${c} -x 1 -s 1 --file-allocation=none`,
      command: (out) => ({ cmd: 'aria2c', args: ['-q', '-i', ctx.urlFile, '-d', out, '-j', c, '-x', '1', '-s', '1', '--file-allocation=none', '--allow-overwrite=true', '--auto-file-renaming=false'] }),
      check: async (m, out) => { expectExit(m, 'aria2c'); await expectFolder(out, names); },
      durable: (out) => out,
    },
    reelpackTool('reelpack-folder', 'reelpack --mode folder', 'download', bytes, ctx.url, ['--mode', 'folder'], async (_m, out) => expectFolder(out, names)),
    {
      id: 'zip', label: 'zip -0', group: 'bundle', bytes,
      display: 'zip -0 -q -r {out}/bench.zip . (in the data folder)',
      command: (out) => ({ cmd: 'zip', args: ['-0', '-q', '-r', path.join(out, zipName), '.'], cwd: ctx.dir }),
      check: async (m, out) => { expectExit(m, 'zip'); await expectZip(path.join(out, zipName), bytes); },
      durable: (out) => path.join(out, zipName),
    },
    {
      id: 'bsdtar', label: 'bsdtar (store)', group: 'bundle', bytes,
      display: 'bsdtar --format zip --options zip:compression=store -cf {out}/bench.zip <files>',
      command: (out) => ({ cmd: 'bsdtar', args: ['--format', 'zip', '--options', 'zip:compression=store', '-cf', path.join(out, zipName), ...files.map((f) => f.safePath)], cwd: ctx.dir }),
      check: async (m, out) => { expectExit(m, 'bsdtar'); await expectZip(path.join(out, zipName), bytes); },
      durable: (out) => path.join(out, zipName),
    },
    reelpackTool('reelpack-bundle', 'reelpack <folder> --mode zip', 'bundle', bytes, ctx.dir, ['--mode', 'zip', '--zip', zipName],
      async (_m, out) => expectZip(path.join(out, zipName), bytes)),
    {
      id: 'reelpack-sink', label: 'reelpack zip sink only', group: 'bundle', bytes,
      display: 'node test/bench/store-zip.ts files.json {out} (bundler alone: no listing, no SHA-256 of inputs)',
      command: (out) => ({ cmd: process.execPath, args: [storeZipScript, ctx.listFile, out, zipName] }),
      check: async (m, out) => { expectExit(m, 'store-zip.ts'); await expectZip(path.join(out, zipName), bytes); },
      durable: (out) => path.join(out, zipName),
    },
    reelpackTool('reelpack-zip', 'reelpack --mode zip (e2e)', 'e2e', bytes, ctx.url, ['--mode', 'zip', '--zip', zipName],
      async (_m, out) => expectZip(path.join(out, zipName), bytes)),
  ];
  if (ctx.subsetCount > 0 && ctx.subsetCount < files.length) {
    tools.push(reelpackTool('reelpack-zip-subset', `reelpack --mode zip, ${ctx.subsetCount} files`, 'rss', subsetBytes, ctx.subsetFile, ['--mode', 'zip', '--zip', zipName],
      async (_m, out) => expectZip(path.join(out, zipName), subsetBytes)));
    tools.push(reelpackTool('reelpack-zip-double', `reelpack --mode zip, ${files.length * 2} files`, 'rss', bytes * 2, ctx.doubleFile, ['--mode', 'zip', '--zip', zipName],
      async (_m, out) => expectZip(path.join(out, zipName), bytes * 2)));
  }
  return tools;
}

// ---------- running ----------

const results = new Map<string, ToolResult>();

function resultFor(scope: string, tool: Tool): ToolResult {
  const key = `${scope}/${tool.id}`;
  let result = results.get(key);
  if (!result) {
    result = { id: tool.id, label: tool.label, group: tool.group, command: tool.display, bytes: tool.bytes, runs: [] };
    if (tool.skipped) result.skipped = tool.skipped;
    results.set(key, result);
  }
  return result;
}

async function runOnce(scope: string, tool: Tool, round: number): Promise<void> {
  const result = resultFor(scope, tool);
  if (tool.skipped) return;
  const out = path.join(workRoot, `${scope}-${tool.id}`);
  await fs.rm(out, { recursive: true, force: true });
  await fs.mkdir(out, { recursive: true });
  const { cmd, args, cwd, timeLines } = tool.command(out);
  try {
    const m = await runMeasured(cmd, args, { cwd, env: { REELPACK_HOME: home }, sampleMs, timeLines });
    const extra = await tool.check(m, out);
    const fsyncSeconds = await fsyncAll(tool.durable(out));
    const record: RunRecord = { seconds: m.seconds, durableSeconds: m.seconds + fsyncSeconds, maxRssKiB: m.maxRssKiB, treeRssKiB: m.treeRssKiB, treePssKiB: m.treePssKiB };
    if (extra) record.extra = extra;
    result.runs.push(record);
    progress(`  [${scope} #${round + 1}] ${tool.label.padEnd(32)} ${m.seconds.toFixed(2).padStart(7)} s  ${(tool.bytes / MiB / m.seconds).toFixed(0).padStart(5)} MiB/s  max RSS ${((m.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB`);
  } catch (error) {
    const message = (error as Error).message;
    (result.errors ??= []).push(message);
    progress(`  [${scope} #${round + 1}] ${tool.label}: FAILED ${message}`);
  } finally {
    await fs.rm(out, { recursive: true, force: true });
    await syncDisk();
  }
}

/** Every tool once per round; the order rotates so no tool always runs first (or after the same one). */
async function alternate(scope: string, tools: readonly Tool[], runs: number): Promise<void> {
  for (let round = 0; round < runs; round++) {
    const shift = round % tools.length;
    for (const tool of [...tools.slice(shift), ...tools.slice(0, shift)]) await runOnce(scope, tool, round);
  }
}

const summaries = (scope: string) => [...results.entries()].filter(([key]) => key.startsWith(`${scope}/`)).map(([, r]) => summarize(r));
const byId = (list: readonly ToolSummary[], id: string) => list.find((s) => s.id === id);

// ---------- main ----------

const startedAt = new Date();
const benchStart = performance.now();
const targets: Target[] = [];
const report: Record<string, unknown> = {};
let exitCode = 0;

try {
  await fs.mkdir(dataRoot, { recursive: true });
  await fs.mkdir(workRoot, { recursive: true });
  const contexts: SetContext[] = [];
  for (const spec of profile.sets) {
    progress(`generating ${describeSet(spec)} …`);
    const dir = path.join(dataRoot, spec.key);
    const files = await writeDataSet(dir, spec);
    contexts.push({
      spec, dir, files, bytes: files.reduce((s, f) => s + f.size, 0), url: '', urlFile: path.join(root, `${spec.key}-urls.txt`),
      listFile: path.join(root, `${spec.key}-files.json`), subsetFile: path.join(root, `${spec.key}-subset.json`), doubleFile: path.join(root, `${spec.key}-double.json`),
      subsetCount: spec.count >= 20 && spec.key === 'many' ? Math.round(spec.count / 10) : 0,
    });
  }
  // Part 2 files: one served by a throttled nginx of its own, one by the main nginx (--limit-rate).
  let throttleFile: VerifiedFile | null = null;
  let limitFile: VerifiedFile | null = null;
  if (flags.throttle) {
    await fs.mkdir(path.join(dataRoot, 'throttle'), { recursive: true });
    throttleFile = await writeDataFile(path.join(dataRoot, 'throttle'), 'long-take-throttled.mp4', Math.round(profile.throttleMiB * MiB), 4242);
  }
  if (flags.limit) {
    await fs.mkdir(path.join(dataRoot, 'limit'), { recursive: true });
    limitFile = await writeDataFile(path.join(dataRoot, 'limit'), 'long-take-limited.mp4', Math.round(profile.limitMiB * MiB), 4243);
  }
  await syncDisk();
  const nginx = await startNginx(dataRoot, { json: true });
  servers.push(nginx);
  for (const ctx of contexts) {
    ctx.url = `${nginx.url}${ctx.spec.key}/`;
    await fs.writeFile(ctx.urlFile, ctx.files.map((f) => ctx.url + encodeURIComponent(f.safePath)).join('\n') + '\n');
    await fs.writeFile(ctx.listFile, JSON.stringify(ctx.files));
    const subset = ctx.files.slice(0, ctx.subsetCount).map((f) => ({ url: ctx.url + encodeURIComponent(f.safePath), name: f.safePath, size: f.size }));
    await fs.writeFile(ctx.subsetFile, JSON.stringify(subset));
    if (ctx.subsetCount > 0) {
      // nginx ignores the query, so the second copy costs no disk; the list makes the URLs distinct.
      const again = ctx.files.map((f) => ({ url: `${ctx.url}${encodeURIComponent(f.safePath)}?copy=2`, name: `again/${f.safePath}`, size: f.size }));
      await fs.writeFile(ctx.doubleFile, JSON.stringify([...ctx.files.map((f) => ({ url: ctx.url + encodeURIComponent(f.safePath), name: f.safePath, size: f.size })), ...again]));
    }
  }

  log(`Reelpack benchmark (${profileName}): Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  log(`reelpack --segments: ${features.segments ?? 'not implemented'}; --limit-rate: ${features.limitRate ? 'yes' : 'not implemented'}; concurrency ${concurrency} for every tool`);

  // ----- part 1 -----
  const setReports: unknown[] = [];
  for (const ctx of contexts) {
    const label = describeSet(ctx.spec);
    progress(`\n${label} (${(ctx.bytes / MiB).toFixed(0)} MiB), ${profile.runs} runs`);
    await alternate(ctx.spec.key, setTools(ctx), profile.runs);
    const list = summaries(ctx.spec.key);
    const get = (id: string) => byId(list, id);
    const rpFolder = get('reelpack-folder');
    const rpBundle = get('reelpack-bundle');
    const rpSink = get('reelpack-sink');
    const e2e = get('reelpack-zip');
    const subset = get('reelpack-zip-subset');
    const double = get('reelpack-zip-double');
    const setTargets = [
      target('download ≥1.3× aria2c', label, speedRatio(rpFolder, get('aria2c')), '>=', 1.3, '×'),
      target('download ≥0.7× curl', label, speedRatio(rpFolder, get('curl')), '>=', 0.7, '×'),
      target('STORE bundling ≥2.5× zip -0', label, speedRatio(rpBundle, get('zip')), '>=', 2.5, '×'),
      target('STORE bundling ≥0.7× bsdtar', label, speedRatio(rpBundle, get('bsdtar')), '>=', 0.7, '×'),
      target('download+bundle ≤1.2× download', label, e2e?.medianSeconds && rpFolder?.medianSeconds ? e2e.medianSeconds / rpFolder.medianSeconds : null, '<=', 1.2, '×'),
    ];
    const others = {
      'download vs curl, both fsynced': speedRatio(rpFolder, get('curl'), true),
      'download vs aria2c, both fsynced': speedRatio(rpFolder, get('aria2c'), true),
      'bundling vs zip -0, both fsynced': speedRatio(rpBundle, get('zip'), true),
      'bundling vs bsdtar, both fsynced': speedRatio(rpBundle, get('bsdtar'), true),
      'zip sink only vs zip -0': speedRatio(rpSink, get('zip')),
      'zip sink only vs bsdtar': speedRatio(rpSink, get('bsdtar')),
      'curl vs aria2c': speedRatio(get('curl'), get('aria2c')),
      'bsdtar vs zip -0': speedRatio(get('bsdtar'), get('zip')),
    };
    targets.push(...setTargets);
    log(`\n== ${label} (${(ctx.bytes / MiB).toFixed(0)} MiB) ==`);
    log(toolTable(list));
    log(setTargets.map((t) => `${t.name}: ${t.value === null ? 'n/a' : t.value.toFixed(2) + '×'} ${mark(t)}`).join(' | '));
    log(Object.entries(others).map(([k, v]) => `${k}: ${v === null ? 'n/a' : v.toFixed(2) + '×'}`).join(' | '));
    if (subset && e2e) {
      log(`memory as the batch grows (reelpack --mode zip, tree RSS / PSS): ${subset.bytes === 0 ? '' : `${ctx.subsetCount} files ${subset.treeRssMB?.toFixed(0)} / ${subset.treePssMB?.toFixed(0)} MB`}, ${ctx.files.length} files ${e2e.treeRssMB?.toFixed(0)} / ${e2e.treePssMB?.toFixed(0)} MB${double ? `, ${ctx.files.length * 2} files ${double.treeRssMB?.toFixed(0)} / ${double.treePssMB?.toFixed(0)} MB` : ''}`);
    }
    setReports.push({ key: ctx.spec.key, label, files: ctx.files.length, fileSize: ctx.spec.size, bytes: ctx.bytes, runs: profile.runs, tools: list, targets: setTargets, ratios: others });
  }
  report.sets = setReports;

  // memory: the largest reelpack tree over every run of part 1, and flatness (subset vs whole batch)
  const reelpackTrees = [...results.entries()].filter(([key]) => /\/reelpack-(folder|bundle|zip)$/.test(key)).map(([key, r]) => ({ key, s: summarize(r) }));
  const worst = reelpackTrees.reduce<{ key: string; s: ToolSummary } | null>((a, b) => ((b.s.treePssMB ?? 0) > (a?.s.treePssMB ?? 0) ? b : a), null);
  if (worst) {
    targets.push(target('peak memory ≤150 MB (tree PSS)', worst.key, worst.s.treePssMB, '<=', 150, 'MB',
      `CLI + zip worker summed: PSS ${worst.s.treePssMB?.toFixed(0)} MB, RSS ${worst.s.treeRssMB?.toFixed(0)} MB (counts shared pages twice); largest process ${worst.s.maxRssMB?.toFixed(0)} MB`));
  }
  const manyKey = contexts.find((c) => c.subsetCount > 0);
  if (manyKey) {
    const list = summaries(manyKey.spec.key);
    const sub = byId(list, 'reelpack-zip-subset');
    const all = byId(list, 'reelpack-zip');
    const growth = sub?.treePssMB && all?.treePssMB ? all.treePssMB / sub.treePssMB : null;
    targets.push(target(`memory flat: ${manyKey.files.length} vs ${manyKey.subsetCount} files`, manyKey.spec.key, growth, '<=', 1.2, '×',
      `reelpack --mode zip tree PSS ${sub?.treePssMB?.toFixed(0)} → ${all?.treePssMB?.toFixed(0)} MB, largest process ${sub?.maxRssMB?.toFixed(0)} → ${all?.maxRssMB?.toFixed(0)} MB`));
    // A 100-file run ends before the processes reach their working size; doubling a large
    // batch shows whether anything grows with the number of files.
    const double = byId(list, 'reelpack-zip-double');
    const beyond = double?.treePssMB && all?.treePssMB ? double.treePssMB / all.treePssMB : null;
    targets.push(target(`memory flat: ${manyKey.files.length * 2} vs ${manyKey.files.length} files`, manyKey.spec.key, beyond, '<=', 1.2, '×',
      `reelpack --mode zip tree PSS ${all?.treePssMB?.toFixed(0)} → ${double?.treePssMB?.toFixed(0)} MB, largest process ${all?.maxRssMB?.toFixed(0)} → ${double?.maxRssMB?.toFixed(0)} MB`));
  }

  // ----- part 2: throttled server -----
  if (throttleFile) {
    const rate = profile.throttleRate;
    const file = throttleFile;
    const size = file.size;
    const slow = await startNginx(path.dirname(file.path), { json: true, limitRate: rate });
    servers.push(slow);
    const url = slow.url + encodeURIComponent(file.safePath);
    const one = [{ name: file.safePath, size }];
    const tools: Tool[] = [
      {
        id: 'curl', label: 'curl (1 connection)', group: 'throttled', bytes: size, display: 'curl -sS --fail -o {out}/<file> <url>',
        command: (out) => ({ cmd: 'curl', args: ['-sS', '--fail', '-o', path.join(out, file.safePath), url] }),
        check: async (m, out) => { expectExit(m, 'curl'); await expectFolder(out, one); }, durable: (out) => out,
      },
      {
        id: 'aria2c-x1', label: 'aria2c -x1 (1 connection)', group: 'throttled', bytes: size, display: 'aria2c -q -d {out} -x 1 -s 1 --file-allocation=none <url>',
        command: (out) => ({ cmd: 'aria2c', args: ['-q', '-d', out, '-x', '1', '-s', '1', '--file-allocation=none', url] }),
        check: async (m, out) => { expectExit(m, 'aria2c'); await expectFolder(out, one); }, durable: (out) => out,
      },
      {
        id: 'aria2c-x4', label: 'aria2c -x4 -s4 (segmented)', group: 'throttled', bytes: size, display: 'aria2c -q -d {out} -x 4 -s 4 -k 1M --file-allocation=none <url>',
        command: (out) => ({ cmd: 'aria2c', args: ['-q', '-d', out, '-x', '4', '-s', '4', '-k', '1M', '--file-allocation=none', url] }),
        check: async (m, out) => { expectExit(m, 'aria2c'); await expectFolder(out, one); }, durable: (out) => out,
      },
      reelpackTool('reelpack', 'reelpack (default)', 'throttled', size, slow.url, ['--mode', 'folder'], async (_m, out) => expectFolder(out, one)),
    ];
    const segFlag = (n: number) => (features.segments === 'count' ? ['--segments', String(n)] : n > 1 ? ['--segments'] : ['--no-segments']);
    const seg1 = reelpackTool('reelpack-seg1', 'reelpack, 1 segment', 'throttled', size, slow.url, ['--mode', 'folder', ...segFlag(1)], async (_m, out) => expectFolder(out, one));
    const seg4 = reelpackTool('reelpack-seg4', 'reelpack, 4 segments', 'throttled', size, slow.url, ['--mode', 'folder', ...segFlag(4)], async (_m, out) => expectFolder(out, one));
    if (!features.segments) seg1.skipped = seg4.skipped = 'n/a (not implemented)';
    tools.push(seg1, seg4);
    progress(`\nthrottled nginx: ${(size / MiB).toFixed(0)} MiB file, limit_rate ${(rate / MiB).toFixed(0)} MiB/s per connection, ${profile.throttleRuns} runs`);
    await alternate('throttled', tools, profile.throttleRuns);
    const list = summaries('throttled');
    const get = (id: string) => byId(list, id);
    const scope = `${(size / MiB).toFixed(0)} MiB at ${(rate / MiB).toFixed(0)} MiB/s/conn`;
    const segTarget = target('segmented (4) ≥3× one connection', scope, speedRatio(get('reelpack-seg4'), get('reelpack-seg1')), '>=', 3, '×',
      `aria2c -x4 vs -x1: ${speedRatio(get('aria2c-x4'), get('aria2c-x1'))?.toFixed(2) ?? 'n/a'}×; reelpack default vs curl: ${speedRatio(get('reelpack'), get('curl'))?.toFixed(2) ?? 'n/a'}×`);
    targets.push(segTarget);
    log(`\n== throttled server: ${scope} ==`);
    log(toolTable(list));
    log(`${segTarget.name}: ${segTarget.value === null ? 'n/a (reelpack --segments not implemented)' : segTarget.value.toFixed(2) + '× ' + mark(segTarget)} | ${segTarget.note}`);
    report.throttled = { fileBytes: size, limitRate: rate, runs: profile.throttleRuns, tools: list, target: segTarget };
  }

  // ----- --limit-rate accuracy -----
  if (limitFile) {
    const rate = profile.limitRate;
    const file = limitFile;
    const size = file.size;
    const url = `${nginx.url}limit/${encodeURIComponent(file.safePath)}`;
    const listFile = path.join(root, 'limit-list.json');
    await fs.writeFile(listFile, JSON.stringify([{ url, name: file.safePath, size }]));
    const one = [{ name: file.safePath, size }];
    const deviation = (achieved: number) => ({ achieved, deviationPct: (Math.abs(achieved - rate) / rate) * 100 });
    const tools: Tool[] = [
      {
        id: 'curl', label: `curl --limit-rate`, group: 'limit', bytes: size, display: `curl -sS --fail --limit-rate ${rate} -o {out}/<file> <url>`,
        command: (out) => ({ cmd: 'curl', args: ['-sS', '--fail', '--limit-rate', String(rate), '-w', '%{speed_download}', '-o', path.join(out, file.safePath), url] }),
        check: async (m, out) => { expectExit(m, 'curl'); await expectFolder(out, one); return deviation(Number(m.stdout.trim())); },
        durable: (out) => out,
      },
      {
        id: 'aria2c', label: 'aria2c --max-download-limit', group: 'limit', bytes: size, display: `aria2c -q -d {out} --max-download-limit=${rate} --file-allocation=none <url>`,
        command: (out) => ({ cmd: 'aria2c', args: ['-q', '-d', out, '-x', '1', `--max-download-limit=${rate}`, '--file-allocation=none', url] }),
        check: async (m, out) => { expectExit(m, 'aria2c'); await expectFolder(out, one); return deviation(size / m.seconds); }, // wall time: includes start-up
        durable: (out) => out,
      },
    ];
    const rp = reelpackTool('reelpack', 'reelpack --limit-rate', 'limit', size, listFile, ['--mode', 'folder', '--limit-rate', String(rate)], async (m, out) => {
      await expectFolder(out, one);
      // The average over the middle 80 % of the bytes, from the NDJSON progress events: no
      // start-up, no listing, no final hash. (First "downloading" to "verified" was 0.1–1.6 %
      // off in most runs and 16–38 % in some: lines that reach this process late, in a batch,
      // move the start by up to a second.)
      const samples = (m.lineTimes ?? [])
        .map(({ at, line }) => ({ at, event: safeJson(line) }))
        .filter((t) => t.event?.type === 'progress' && typeof t.event.bytesDone === 'number')
        .map((t) => ({ at: t.at, bytes: t.event!.bytesDone as number }));
      const from = samples.find((t) => t.bytes >= size * 0.1);
      const to = samples.findLast((t) => t.bytes <= size * 0.9);
      return deviation(from && to && to.at > from.at ? (to.bytes - from.bytes) / (to.at - from.at) : size / m.seconds);
    });
    if (!features.limitRate) rp.skipped = 'n/a (not implemented)';
    tools.push(rp);
    progress(`\n--limit-rate ${(rate / MiB).toFixed(0)} MiB/s on ${(size / MiB).toFixed(0)} MiB (unthrottled nginx)`);
    await alternate('limit', tools, 1);
    const list = summaries('limit');
    const rpSummary = byId(list, 'reelpack');
    const limitTarget = target('--limit-rate within 5%', `${(rate / MiB).toFixed(0)} MiB/s`, rpSummary?.extra?.deviationPct ?? null, '<=', 5, '%',
      list.filter((s) => s.id !== 'reelpack' && s.extra).map((s) => `${s.label}: ${(s.extra!.achieved! / MiB).toFixed(1)} MiB/s`).join('; '));
    targets.push(limitTarget);
    log(`\n== --limit-rate ${(rate / MiB).toFixed(0)} MiB/s, ${(size / MiB).toFixed(0)} MiB ==`);
    for (const s of list) {
      log(`${s.label.padEnd(30)} ${s.skipped ?? (s.extra ? `${(s.extra.achieved! / MiB).toFixed(2)} MiB/s, ${s.extra.deviationPct!.toFixed(1)}% off` : (s.errors?.[0] ?? 'failed'))}`);
    }
    report.limitRate = { rate, fileBytes: size, tools: list, target: limitTarget };
  }

  log('\n== targets (ratios from this run; medians) ==');
  log(targetTable(targets));
  const failures = [...results.values()].filter((r) => r.errors?.length);
  if (failures.length) {
    exitCode = 1;
    log(`\n${failures.length} tool(s) had failed runs: ${failures.map((f) => `${f.label}: ${f.errors![0]}`).join('; ')}`);
  }
  log(`\nfinished in ${((performance.now() - benchStart) / 1000).toFixed(0)} s`);
} catch (error) {
  exitCode = 1;
  progress(`bench: ${(error as Error).stack ?? error}`);
} finally {
  const git = await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo }).then((r) => r.stdout.trim(), () => null);
  const full = {
    version: 1,
    meta: {
      profile: profileName, startedAt: startedAt.toISOString(), seconds: (performance.now() - benchStart) / 1000, node: process.version,
      cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryBytes: os.totalmem(), loadAverage: os.loadavg(), git, concurrency,
      runs: profile.runs, features, argv: process.argv.slice(2),
      notes: [
        'MiB/s from the median wall time; "+fsync" adds an fsync of every output after the run (Reelpack fsyncs its outputs itself, curl/aria2c/zip/bsdtar do not).',
        'reelpack --mode folder/zip records SHA-256 of every file and verifies the archive by reading it back; the peers do neither.',
        'tree RSS/PSS: peak of the summed memory of every process of the command (Reelpack: CLI + zip worker), sampled from /proc.',
      ],
    },
    ...report,
    targets,
  };
  await fs.mkdir(path.dirname(flags.out), { recursive: true });
  await fs.writeFile(flags.out, JSON.stringify(full, null, 2) + '\n');
  progress(`report: ${path.relative(process.cwd(), flags.out) || flags.out}`);
  await cleanup();
}
process.exitCode = exitCode;

function safeJson(line: string): { type?: string; state?: string; bytesDone?: unknown } | null {
  try {
    return JSON.parse(line) as { type?: string; state?: string; bytesDone?: unknown };
  } catch {
    return null;
  }
}
