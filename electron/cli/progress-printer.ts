// How `reelpack fetch` shows a job: NDJSON with --json, a one-line progress bar on a
// terminal, plain lines otherwise (logs, CI).
import { basename } from 'node:path';
import type { JobEvent } from '../core/jobs/job-events.ts';
import { serverDownPatienceMs } from '../core/download/retry-policy.ts';
import { countOf, describeListedSize, formatBytes, formatDuration } from '../core/units.ts';

export type PrintMode = 'json' | 'tty' | 'plain';

/**
 * Text from the server (names, reasons) made safe for a terminal: control characters (escape
 * sequences that retitle or clear the terminal, newlines that forge lines, NUL) become `\xNN`.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** "Listing… 1200 of 3000 results" while a large batch is listed page by page. */
export function listingCount(progress: { found: number; total?: number | undefined }): string {
  return `Listing… ${progress.total === undefined ? countOf(progress.found, 'result') : `${progress.found} of ${countOf(progress.total, 'result')}`}`;
}

export function createPrinter(mode: PrintMode, out: NodeJS.WriteStream, err: NodeJS.WriteStream): (event: JobEvent) => void {
  if (mode === 'json') return (event) => out.write(JSON.stringify(event) + '\n');
  let barShown = false;
  /** Every listed file is downloaded: the terminal's last line shows the archive's work instead. */
  let downloadsDone = false;
  /** A transient status on the terminal's last line (overwritten by the next one). */
  const status = (text: string) => {
    err.write(`\r\x1b[2K${terminalSafe(text)}`);
    barShown = true;
  };
  /** A "waiting for the server" line was printed and the server has not answered since. */
  let waitingNoted = false;
  const clearBar = () => {
    if (barShown) err.write('\r\x1b[2K');
    barShown = false;
  };
  const line = (text: string) => {
    clearBar();
    err.write(terminalSafe(text) + '\n');
  };
  return (event) => {
    switch (event.type) {
      case 'listing':
        if (event.found === undefined) line(`Listing ${event.source} …`);
        else if (mode === 'tty') {
          err.write(`\r\x1b[2K${listingCount({ found: event.found, total: event.total })}`);
          barShown = true;
        }
        break;
      case 'listed':
        line(`${event.resumed ? 'Resuming' : 'Found'} ${countOf(event.files, 'file')} (${describeListedSize(event.bytes, event.files, event.unsizedFiles)}) from ${event.kind} source ${event.source}`);
        break;
      case 'warning':
        line(`warning: ${event.message}`);
        break;
      case 'file':
        if (event.state === 'failed') line(`failed: ${event.name}: ${event.reason ?? ''}`);
        else if (event.state === 'retrying' && event.waitingForServer) {
          // A whole batch waits for a server that is down: one line per outage, not one per file and try.
          if (!waitingNoted) line(`waiting for the server (up to ${serverDownPatienceMs / 60_000} min): ${event.reason ?? ''}`);
          waitingNoted = true;
        } else if (event.state === 'retrying') line(`retrying ${event.name} in ${Math.ceil((event.retryInMs ?? 0) / 1000)} s (attempt ${event.attempt}): ${event.reason ?? ''}`);
        if (event.state === 'verified' || event.state === 'queued') waitingNoted = false; // the server answered
        if (event.state === 'verified' && mode === 'plain') line(`verified ${event.name} (${formatBytes(event.size ?? 0)})`);
        break;
      case 'progress': {
        if (mode !== 'tty') break;
        const allDownloaded = event.filesTotal > 0 && event.filesDone >= event.filesTotal;
        if (allDownloaded && downloadsDone) break; // the last line shows the archive's work now
        downloadsDone = allDownloaded;
        // Until every size is known, files done is the honest measure (see sizesKnown).
        const byBytes = event.sizesKnown && event.bytesTotal > 0;
        const ratio = byBytes ? Math.min(1, event.bytesDone / event.bytesTotal) : event.filesTotal > 0 ? event.filesDone / event.filesTotal : 0;
        const bytes = byBytes ? `${formatBytes(event.bytesDone)} / ${formatBytes(event.bytesTotal)}` : formatBytes(event.bytesDone);
        const width = 24;
        const filled = Math.round(ratio * width);
        const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
        // No speed yet (the first second) or none now (stalled): "--", not a misleading "0 B/s".
        const speed = event.speed > 0 ? `${formatBytes(event.speed)}/s` : '--/s';
        err.write(`\r\x1b[2K${bar} ${(ratio * 100).toFixed(0).padStart(3)}%  ${bytes}  ${speed}  ETA ${formatDuration(event.etaSeconds)}  ${event.filesDone}/${event.filesTotal} files`);
        barShown = true;
        break;
      }
      case 'bundle':
        // One line per archive (its "wrote" line, from the output event). On a terminal the
        // work after the last download (zipping the rest, the read-back) shows on the last line.
        if (event.state === 'verifying') {
          if (mode === 'tty') status(`Verifying ${event.path ? basename(event.path) : 'the archive'}…`);
          else line(`archive verifying: ${event.path ?? ''}`);
        } else if (event.state === 'writing' && mode === 'tty' && downloadsDone && event.bytesTotal) {
          status(`Zipping… ${Math.min(100, Math.floor((100 * (event.bytesDone ?? 0)) / event.bytesTotal))}%  ${event.path ? basename(event.path) : ''}`);
        }
        break;
      case 'output':
        line(`wrote ${event.path} (${formatBytes(event.size)}, sha256 ${event.sha256})`);
        break;
      case 'summary': {
        clearBar();
        if (event.error) line(`${event.error.code === 'CANCELLED' ? 'stopped' : 'error'}: ${event.error.message}`);
        // A job refused before it began (a lock, a usage error, no room) has no totals to show.
        const began = event.files > 0 || event.networkBytes > 0 || event.failed.length > 0;
        if (event.error && !began) break;
        const failed = event.failed.length ? `, ${event.failed.length} failed` : '';
        // "done": the count is what arrived, not what was asked for.
        line(`${event.ok ? 'Done' : 'Incomplete'}: ${countOf(event.files, 'file')}${event.ok ? '' : ' done'}, ${formatBytes(event.bytes)}${failed}; ${formatBytes(event.networkBytes)} downloaded`);
        for (const f of event.failed) line(`  failed: ${f.name}: ${f.reason}`);
        break;
      }
    }
  };
}
