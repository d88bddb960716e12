// Measures STORE bundling throughput against Info-ZIP `zip -0` and bsdtar on the same files
// (40 × 8 MiB + 1 × 1 GiB by default), all read from a warm page cache. Prints MiB/s and ratios.
// Not a test: run it by hand (or from the bench script):
//   node_modules/.bin/node test/core/bundle/measure-store-throughput.ts [--small 40] [--big-mib 1024] [--runs 5]
// Ours is measured end to end through createZipSink: worker start, zipping, fsync, read-back
// verification of every entry's CRC-32, rename. The other two neither fsync nor verify.
// Data generation and the sink run are shared with `npm run bench` (test/bench/).
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import type { VerifiedFile } from '../../../electron/core/jobs/output-sink.ts';
import { MiB, writeDataFile } from '../../bench/bench-data.ts';
import { zipWithSink } from '../../bench/store-zip.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { small: { type: 'string', default: '40' }, 'big-mib': { type: 'string', default: '1024' }, runs: { type: 'string', default: '5' } } });
const smallCount = Number(values.small);
const bigMiB = Number(values['big-mib']);
const runs = Number(values.runs);

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'reelpack-throughput-'));
const sourceDir = path.join(root, 'src');
await fs.mkdir(sourceDir);

const writeFile = (name: string, size: number, seed: number) => writeDataFile(sourceDir, name, size, seed);

const files: VerifiedFile[] = [];
for (let i = 0; i < smallCount; i++) files.push(await writeFile(`clip-${String(i).padStart(3, '0')}.mp4`, 8 * MiB, i));
if (bigMiB > 0) files.push(await writeFile('long-take.mp4', bigMiB * MiB, smallCount));
const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
await run('sh', ['-c', `cat "${sourceDir}"/* > /dev/null`]); // warm the page cache for everyone

const timings = new Map<string, number[]>();

async function timed(label: string, action: () => Promise<void>): Promise<void> {
  const start = performance.now();
  await action();
  const list = timings.get(label) ?? [];
  list.push((performance.now() - start) / 1000);
  timings.set(label, list);
}

/** MiB/s of the best run: the machine is shared, so the fastest run is the least disturbed one. */
function report(label: string): number {
  const times = [...(timings.get(label) ?? [])].sort((a, b) => a - b);
  const best = times[0]!;
  const median = times[Math.floor(times.length / 2)]!;
  const speed = totalBytes / MiB / best;
  console.log(`${label.padEnd(20)} ${speed.toFixed(0).padStart(6)} MiB/s  best ${best.toFixed(2)} s, median ${median.toFixed(2)} s of ${times.length}`);
  return speed;
}

const outZip = path.join(root, 'out.zip');
console.log(`${files.length} files, ${(totalBytes / MiB).toFixed(0)} MiB, STORE, Node ${process.version}, ${os.cpus().length} CPUs`);
let round = 0;
// Interleaved, so a burst of load elsewhere on the machine hits every tool alike.
for (let i = 0; i < runs; i++) {
  await fs.rm(outZip, { force: true });
  await timed('zip -0', async () => {
    await run('zip', ['-0', '-q', outZip, ...files.map((f) => f.safePath)], { cwd: sourceDir });
  });
  await fs.rm(outZip, { force: true });
  await timed('bsdtar (store)', async () => {
    await run('bsdtar', ['--format', 'zip', '--options', 'zip:compression=store', '-cf', outZip, ...files.map((f) => f.safePath)], { cwd: sourceDir });
  });
  await fs.rm(outZip, { force: true });
  const outDir = path.join(root, `out-${round++}`);
  await timed('reelpack zip sink', async () => {
    await zipWithSink(files, outDir, 'bench.zip');
  });
  await fs.rm(outDir, { recursive: true, force: true });
}
const zipSpeed = report('zip -0');
const bsdtarSpeed = report('bsdtar (store)');
const oursSpeed = report('reelpack zip sink');
console.log(`ratio reelpack / zip -0: ${(oursSpeed / zipSpeed).toFixed(2)}×  (target ≥ 2.5×)`);
console.log(`ratio bsdtar / zip -0:   ${(bsdtarSpeed / zipSpeed).toFixed(2)}×`);
await fs.rm(root, { recursive: true, force: true });
