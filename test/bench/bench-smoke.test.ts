// The benchmark harness in its smallest mode (tiny files, one run each): every tool runs, every
// run succeeds, and the JSON report has the shape the README and CI readers rely on. Speed is
// not checked here (see `npm run bench`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const bench = fileURLToPath(new URL('./bench.ts', import.meta.url));

interface Summary { id: string; group: string; runs: number; medianSeconds: number | null; mibps: number | null; maxRssMB: number | null; skipped?: string; errors?: string[] }
interface Report {
  version: number;
  meta: { profile: string; features: { segments: unknown; limitRate: boolean } };
  sets: Array<{ key: string; files: number; bytes: number; tools: Summary[]; targets: unknown[] }>;
  throttled?: { tools: Summary[] };
  targets: Array<{ name: string; value: number | null; ok: boolean | null; unit: string }>;
}

test('npm run bench -- --smoke: every tool runs once and the JSON report has its shape', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reelpack-bench-smoke-'));
  try {
    const out = join(dir, 'bench.json');
    const { stdout } = await exec(process.execPath, [bench, '--smoke', '--no-limit', '--out', out, '--dir', dir], { maxBuffer: 16 * 1024 * 1024 });
    assert.match(stdout, /== targets/);
    const report = JSON.parse(await readFile(out, 'utf8')) as Report;
    assert.equal(report.version, 1);
    assert.equal(report.meta.profile, 'smoke');
    assert.deepEqual(report.sets.map((s) => s.key), ['small', 'big', 'many']);
    for (const set of report.sets) {
      const ids = set.tools.map((t) => t.id);
      for (const id of ['curl', 'aria2c', 'reelpack-folder', 'zip', 'bsdtar', 'reelpack-bundle', 'reelpack-sink', 'reelpack-zip']) assert.ok(ids.includes(id), `${set.key}: ${id}`);
      for (const tool of set.tools) {
        assert.deepEqual(tool.errors ?? [], [], `${set.key}/${tool.id} failed`);
        assert.equal(tool.runs, 1, `${set.key}/${tool.id}`);
        assert.ok(tool.medianSeconds! > 0 && tool.mibps! > 0, `${set.key}/${tool.id} timed`);
        assert.ok(tool.maxRssMB! > 0, `${set.key}/${tool.id} peak RSS`);
      }
    }
    assert.ok(report.throttled, 'throttled part ran');
    for (const tool of report.throttled.tools) assert.ok(tool.skipped || tool.runs === 1, tool.id);
    const names = report.targets.map((t) => t.name);
    for (const name of ['download ≥1.3× aria2c', 'STORE bundling ≥2.5× zip -0', 'download+bundle ≤1.2× download', 'peak memory ≤150 MB (tree PSS)', 'segmented (4) ≥3× one connection']) {
      assert.ok(names.includes(name), name);
    }
    for (const t of report.targets) assert.equal(t.ok === null, t.value === null, t.name);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
