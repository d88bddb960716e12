// How `reelpack fetch` prints a job on a terminal and in a log: what stays on screen.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPrinter } from '../../electron/cli/progress-printer.ts';
import type { PrintMode } from '../../electron/cli/progress-printer.ts';
import type { JobEvent } from '../../electron/core/jobs/job-events.ts';

/** Runs events through a printer; returns what stderr shows: permanent lines, and the last (transient) line. */
function print(mode: PrintMode, events: JobEvent[]): { lines: string[]; last: string } {
  let written = '';
  const stream = { write: (text: string) => ((written += text), true) } as unknown as NodeJS.WriteStream;
  const printer = createPrinter(mode, stream, stream);
  for (const event of events) printer(event);
  // A terminal's view: "\r\x1b[2K" clears the line being drawn; "\n" keeps it.
  const lines: string[] = [];
  let current = '';
  for (const piece of written.split(/(\r\x1b\[2K|\n)/)) {
    if (piece === '\r\x1b[2K') current = '';
    else if (piece === '\n') {
      lines.push(current);
      current = '';
    } else current += piece;
  }
  return { lines, last: current };
}

const progress = (filesDone: number, speed: number): JobEvent => ({
  type: 'progress', bytesDone: filesDone * 1000, bytesTotal: 2000, sizesKnown: true, filesDone, filesTotal: 2, speed, etaSeconds: null, networkBytes: 0,
});

const volume = (n: number): JobEvent[] => [
  { type: 'bundle', state: 'verifying', path: `/out/b.part${n}.zip` },
  { type: 'output', path: `/out/b.part${n}.zip`, size: 1536, sha256: 'ab'.repeat(32) },
  { type: 'bundle', state: 'done', path: `/out/b.part${n}.zip`, bytesDone: 1000 * n, bytesTotal: 2000, entries: n },
];

test('on a terminal each archive leaves one line, the one that says where it is and its SHA-256', () => {
  const { lines } = print('tty', [progress(1, 5e6), ...volume(1), progress(2, 5e6), ...volume(2)]);
  assert.deepEqual(lines, [
    `wrote /out/b.part1.zip (1.5 KB, sha256 ${'ab'.repeat(32)})`,
    `wrote /out/b.part2.zip (1.5 KB, sha256 ${'ab'.repeat(32)})`,
  ]);
});

test('in a log the read-back is a line of its own, and "done" is not repeated after "wrote"', () => {
  const { lines } = print('plain', volume(1));
  assert.deepEqual(lines, ['archive verifying: /out/b.part1.zip', `wrote /out/b.part1.zip (1.5 KB, sha256 ${'ab'.repeat(32)})`]);
});

test('the bar shows no speed ("--/s") before there is one, not "0 B/s"', () => {
  assert.match(print('tty', [progress(0, 0)]).last, / --\/s {2}ETA/);
  assert.match(print('tty', [progress(1, 2.5 * 1024 * 1024)]).last, / 2\.5 MB\/s {2}ETA/);
});

test('after the last download the terminal shows the zipping, and later progress events do not draw the bar over it', () => {
  const zipping: JobEvent = { type: 'bundle', state: 'writing', path: '/out/some/b.zip', bytesDone: 1500, bytesTotal: 2000, entries: 1 };
  // While files still download, the bar stays.
  assert.match(print('tty', [progress(1, 1e6), zipping]).last, /^\[#+-+\] +50%/);
  const after = print('tty', [progress(2, 1e6), zipping, progress(2, 1e6)]);
  assert.equal(after.last, 'Zipping… 75%  b.zip');
  assert.equal(print('tty', [progress(2, 1e6), zipping, { type: 'bundle', state: 'verifying', path: '/out/some/b.zip' }]).last, 'Verifying b.zip…');
});

test('the summary counts what arrived as done; a job refused before it began shows its error alone', () => {
  const failed = [{ name: 'c.mp4', reason: 'HTTP 404' }];
  assert.deepEqual(print('plain', [{ type: 'summary', ok: false, files: 6, bytes: 6 * 1024 * 1024, networkBytes: 6 * 1024 * 1024, failed, outputs: [] }]).lines, [
    'Incomplete: 6 files done, 6.0 MB, 1 failed; 6.0 MB downloaded',
    '  failed: c.mp4: HTTP 404',
  ]);
  assert.deepEqual(print('plain', [{ type: 'summary', ok: true, files: 1, bytes: 1024, networkBytes: 1024, failed: [], outputs: [] }]).lines, ['Done: 1 file, 1.0 KB; 1.0 KB downloaded']);
  const locked = { code: 'LOCKED' as const, message: 'another reelpack (pid 7) is already working in /out; wait for it or stop it first' };
  assert.deepEqual(print('plain', [{ type: 'summary', ok: false, files: 0, bytes: 0, networkBytes: 0, failed: [], outputs: [], error: locked }]).lines, [`error: ${locked.message}`]);
});
