// Reelpack's bundler alone, in process: the files go straight into createZipSink (worker start,
// STORE zipping, fsync, read-back verification of every CRC-32, rename), with no listing and
// no SHA-256 pass over the inputs. Shared by bench.ts (run as a child process, so its peak RSS
// can be measured) and test/core/bundle/measure-store-throughput.ts.
//   node test/bench/store-zip.ts <files.json> <out dir> [zip name]
// files.json: VerifiedFile[] as written by bench-data.ts.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createZipSink } from '../../electron/core/bundle/zip-sink.ts';
import type { OutputFile } from '../../electron/core/jobs/job-events.ts';
import type { SinkContext, VerifiedFile } from '../../electron/core/jobs/output-sink.ts';

export async function zipWithSink(files: readonly VerifiedFile[], outDir: string, zipName = 'bench.zip'): Promise<OutputFile[]> {
  const ctx: SinkContext = {
    outDir,
    stateDir: path.join(outDir, '.reelpack'),
    source: { url: path.dirname(files[0]?.path ?? outDir), kind: 'folder' },
    emit: () => {},
    signal: new AbortController().signal,
  };
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const sink = createZipSink(ctx, { zipName, expectedFiles: files.length, expectedBytes: totalBytes });
  for (const file of files) await sink.add(file);
  return sink.finish({ failed: [] });
}

if (import.meta.main) {
  const [listFile, outDir, zipName] = process.argv.slice(2);
  if (!listFile || !outDir) {
    process.stderr.write('usage: node test/bench/store-zip.ts <files.json> <out dir> [zip name]\n');
    process.exit(2);
  }
  const files = JSON.parse(await fs.readFile(listFile, 'utf8')) as VerifiedFile[];
  const outputs = await zipWithSink(files, outDir, zipName);
  process.stdout.write(JSON.stringify({ type: 'summary', ok: true, outputs }) + '\n');
}
