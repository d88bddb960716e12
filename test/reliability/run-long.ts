// `npm run test:reliability`: the long versions of the "nothing lost" suite (≥1000 faults in
// the storm, ≥50 kill -9, every hostile input), then the totals. RELIABILITY_SEED=n repeats a run.
//   node test/reliability/run-long.ts [extra node --test arguments]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Totals } from './reliability-kit.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(here).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join(here, f));
const scratch = mkdtempSync(join(tmpdir(), 'reelpack-reliability-'));
const totalsFile = join(scratch, 'totals.ndjson');
const started = Date.now();

const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=1', ...process.argv.slice(2), ...files], {
  stdio: 'inherit',
  env: { ...process.env, RELIABILITY_LONG: '1', RELIABILITY_TOTALS: totalsFile },
});
const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));

const sum: Required<Totals> = { faults: 0, kills: 0, hostile: 0, files: 0, archives: 0, lost: 0, corrupt: 0 };
let lines: string[] = [];
try {
  lines = readFileSync(totalsFile, 'utf8').split('\n').filter(Boolean);
} catch {
  // no test recorded anything
}
for (const line of lines) {
  const entry = JSON.parse(line) as Totals;
  for (const key of Object.keys(sum) as Array<keyof Totals>) sum[key] += entry[key] ?? 0;
}
rmSync(scratch, { recursive: true, force: true });
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
process.stdout.write(`
Reliability totals (seed ${process.env.RELIABILITY_SEED ?? 'default'}, ${minutes} min, node --test exit ${code}):
  faults injected        ${sum.faults}
  kills survived         ${sum.kills}
  hostile inputs tried   ${sum.hostile}
  files checked          ${sum.files}
  files lost or corrupt  ${sum.lost + sum.corrupt}${code === 0 ? '' : '  (some tests failed: see above)'}
`);
// The targets for the long run.
const short = sum.faults < 1000 || sum.kills < 50;
if (short) process.stdout.write(`  below target: needs >= 1000 faults and >= 50 kills\n`);
process.exitCode = code || (short ? 1 : 0);
