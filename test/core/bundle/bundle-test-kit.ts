// Shared helpers for bundle tests: temp folders, staged source files, a sink context that
// records events, and the independent readers every archive must satisfy.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import type { JobEvent } from '../../../electron/core/jobs/job-events.ts';
import type { SinkContext, VerifiedFile } from '../../../electron/core/jobs/output-sink.ts';

export const run = promisify(execFile);

export async function makeTempDir(label: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `reelpack-${label}-`));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fs.open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream({ highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => {});
  }
  return hash.digest('hex');
}

let nextId = 1;

/** Writes `content` (or `size` random bytes) to `dir/staged/<n>` and describes it as a verified file. */
export async function stageFile(dir: string, safePath: string, content: Buffer | number, extra: Partial<VerifiedFile> = {}): Promise<VerifiedFile> {
  const data = typeof content === 'number' ? randomBytes(content) : content;
  const id = `id-${nextId++}`;
  const staged = path.join(dir, 'staged', id);
  await fs.mkdir(path.dirname(staged), { recursive: true });
  await fs.writeFile(staged, data);
  return {
    id,
    safePath,
    path: staged,
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    sourceUrl: `http://127.0.0.1:9/outputs/${safePath}`,
    mtimeMs: Date.UTC(2025, 0, 2, 3, 4, 6),
    ...extra,
  };
}

export interface RecordingContext {
  ctx: SinkContext;
  events: JobEvent[];
  controller: AbortController;
}

export function makeContext(outDir: string, source = { url: 'http://127.0.0.1:8000/api/results', kind: 'api' }): RecordingContext {
  const events: JobEvent[] = [];
  const controller = new AbortController();
  const ctx: SinkContext = {
    outDir,
    stateDir: path.join(outDir, '.reelpack'),
    source,
    emit: (event) => events.push(event),
    signal: controller.signal,
  };
  return { ctx, events, controller };
}

export interface ExpectedEntry {
  name: string;
  size: number;
  sha256: string;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => (err ? reject(err) : resolve(zip))));
}

/** Every entry's name, size and SHA-256 as yauzl reads them (it checks CRC-32s while reading). */
export async function readWithYauzl(file: string): Promise<Map<string, { size: number; sha256: string }>> {
  const zip = await openZip(file);
  const found = new Map<string, { size: number; sha256: string }>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const hash = createHash('sha256');
        let size = 0;
        stream.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        stream.on('error', reject);
        stream.on('end', () => {
          found.set(entry.fileName, { size, sha256: hash.digest('hex') });
          zip.readEntry();
        });
      });
    });
    zip.readEntry();
  });
  zip.close();
  return found;
}

const pythonCheck = `
import sys, zipfile, json
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    print(json.dumps({"bad": bad, "entries": [[i.filename, i.file_size, i.compress_type] for i in z.infolist()]}))
`;

/**
 * unzip -t, 7z t, bsdtar -tf, Python's zipfile.testzip (CRC) and yauzl must all accept the
 * archive, and its entries must be exactly `expected` (plus manifest.json and SHA256SUMS),
 * byte-identical by SHA-256.
 */
export async function checkWithAllReaders(file: string, expected: readonly ExpectedEntry[]): Promise<void> {
  const names = [...expected.map((e) => e.name), 'manifest.json', 'SHA256SUMS'].sort();
  const big = 64 * 1024 * 1024;
  const unzip = await run('unzip', ['-t', file], { maxBuffer: big });
  assert.match(unzip.stdout, /No errors detected/, 'unzip -t');
  const sevenZip = await run('7z', ['t', file], { maxBuffer: big });
  assert.match(sevenZip.stdout, /Everything is Ok/, '7z t');
  const bsdtar = await run('bsdtar', ['-tf', file], { maxBuffer: big });
  assert.deepEqual(bsdtar.stdout.split('\n').filter(Boolean).sort(), names, 'bsdtar -tf');
  const python = await run('python3', ['-c', pythonCheck, file], { maxBuffer: big });
  const report = JSON.parse(python.stdout) as { bad: string | null; entries: Array<[string, number, number]> };
  assert.equal(report.bad, null, 'python zipfile testzip');
  assert.deepEqual(report.entries.map((e) => e[0]).sort(), names, 'python zipfile names');
  const read = await readWithYauzl(file);
  assert.deepEqual([...read.keys()].sort(), names, 'yauzl names');
  for (const entry of expected) {
    assert.deepEqual(read.get(entry.name), { size: entry.size, sha256: entry.sha256 }, `bytes of ${entry.name}`);
  }
}

export async function readEntryText(file: string, name: string): Promise<string> {
  const { stdout } = await run('unzip', ['-p', file, name], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}
