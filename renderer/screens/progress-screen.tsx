// Progress: the overall bar with bytes, speed and ETA, per-file state badges (virtualized),
// and pause / resume / cancel / retry failed.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { FileRow, JobSnapshot } from '../../electron/core/contract.ts';
import { Badge } from '../components/badge.tsx';
import type { Tone } from '../components/badge.tsx';
import { displayName } from '../components/display-name.ts';
import { errorHint } from '../components/error-hint.ts';
import { failureReason, isLocalSource } from '../components/failure-reason.ts';
import { formatBytes, formatDuration, formatSpeed, hostOf } from '../components/format.ts';
import { Icon } from '../components/icons.tsx';
import { listingStatus } from '../components/listing-status.ts';
import { measuringSpeed } from '../components/live-figures.ts';
import { ProgressBar } from '../components/progress-bar.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { Translate } from '../i18n/i18n.tsx';

export interface JobView extends Omit<JobSnapshot, 'files'> {
  files: Map<string, FileRow>;
  /** Just resumed or retried: the speed and ETA are still the last run's, not measured yet. */
  speedStale?: boolean | undefined;
}

const stateTone: Record<FileRow['state'], Tone> = {
  queued: 'neutral',
  downloading: 'progress',
  saving: 'progress',
  retrying: 'warn',
  verified: 'info',
  zipped: 'success',
  failed: 'danger',
};

const stateOrder: Record<FileRow['state'], number> = { downloading: 0, saving: 1, retrying: 2, failed: 3, queued: 4, verified: 5, zipped: 6 };

/**
 * The rows in display order — what is happening now first, then what needs attention, then
 * what waits, then what is finished — with a count per state. One pass into per-state groups,
 * not a sort: this runs on every job event, and sorting 100 000 rows took ~30 ms each time.
 */
function groupByState(rows: Iterable<FileRow>): { files: FileRow[]; counts: Partial<Record<FileRow['state'], number>> } {
  const groups: FileRow[][] = Object.keys(stateOrder).map(() => []);
  for (const row of rows) groups[stateOrder[row.state] ?? stateOrder.queued]!.push(row); // a state this UI does not know waits with the queued
  const counts: Partial<Record<FileRow['state'], number>> = {};
  for (const group of groups) if (group.length > 0) counts[group[0]!.state] = group.length;
  return { files: groups.flat(), counts };
}

/** A row's state in words; `local`: the job reads a folder (a "404" is a file gone from it). */
export function fileStateLabel(t: Translate, f: FileRow, local = false): string {
  switch (f.state) {
    case 'downloading':
      return t('state_downloading', { percent: f.size ? Math.floor((100 * f.bytesDone) / f.size) : 0 });
    case 'retrying': {
      // Counted down on every render (progress events come 4 times a second while running).
      const seconds = Math.max(0, Math.ceil(((f.retryAt ?? 0) - Date.now()) / 1000));
      if (f.waitingForServer) return t('state_waitingServer', { seconds });
      return t('state_retrying', { seconds, attempt: f.attempt ?? 1 });
    }
    case 'failed':
      return t('state_failed', { reason: failureReason(t, { reason: f.reason, code: f.reasonCode, httpStatus: f.httpStatus }, local) });
    default:
      return t(`state_${f.state}`);
  }
}

/** What a cancel deleted and what it kept (see JobSession.discard). */
function cancelledNote(record: JobView['job']): 'cancelledNote' | 'cancelledKeptNote' | 'cancelledNothingNote' {
  if (record.discarded === false) return 'cancelledNothingNote';
  return record.looseFiles > 0 || record.outputs.length > 0 ? 'cancelledKeptNote' : 'cancelledNote';
}

/** A job-level error: what to do about it first (localized), then the engine's own message. */
function ErrorNote({ error }: { error: NonNullable<JobView['job']['error']> }) {
  const { t } = useI18n();
  const hint = errorHint(t, error);
  return (
    <div className="note danger error-note" role="alert">
      <Icon name="alert" size={14} />
      <div>
        <div>{hint ?? error.message}</div>
        {hint && <div className="small muted error-detail">{t('errorDetails')}: {error.message} <code>{error.code}</code></div>}
      </div>
    </div>
  );
}

export interface ProgressScreenProps {
  job: JobView;
  onPause(): void;
  onResume(): void;
  onCancel(): void;
  onRetry(): void;
  /** Retry, and finish with what arrived if those files still fail (the archive lists them as failed). */
  onFinishWithout(): void;
  /** After a cancel: back to the results for a new download. */
  onNew(): void;
}

const rowHeight = 40;

export function ProgressScreen({ job, onPause, onResume, onCancel, onRetry, onFinishWithout, onNew }: ProgressScreenProps) {
  const { t, locale } = useI18n();
  const [confirming, setConfirming] = useState(false);
  // The confirmation takes the focus (on the harmless choice); Escape or Keep going dismisses
  // it and gives the focus back to Cancel (else it fell to the page).
  const keepGoing = useRef<HTMLButtonElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const closeConfirm = () => {
    setConfirming(false);
    requestAnimationFrame(() => cancelButton.current?.focus());
  };
  useEffect(() => {
    if (!confirming) return;
    keepGoing.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeConfirm();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [confirming]);
  // Pause, Resume, Retry… are replaced by the next status's buttons, and the focus fell to the
  // page with the button that had it. Once the new buttons are there, the main one takes it.
  const header = useRef<HTMLDivElement>(null);
  const refocus = useRef(false);
  const act = (command: () => void) => () => {
    refocus.current = true;
    command();
  };
  useEffect(() => {
    if (!refocus.current) return;
    const focused = document.activeElement;
    if (focused && focused !== document.body && focused.isConnected) return; // the user moved on, or the button stayed
    const buttons = header.current?.querySelectorAll<HTMLButtonElement>('button');
    if (!buttons?.length) return; // pausing, cancelling: no button yet
    refocus.current = false;
    (header.current!.querySelector<HTMLButtonElement>('.btn-primary') ?? buttons[0]!).focus();
  }, [job.job.status]);
  const { files, counts } = useMemo(() => groupByState(job.files.values()), [job.files]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: files.length, getScrollElement: () => scrollRef.current, estimateSize: () => rowHeight, overscan: 10 });

  const { progress, job: record } = job;
  const status = record.status;
  // Until every size is known (URL lists), files done is the honest measure of progress.
  const byBytes = progress.sizesKnown && progress.bytesTotal > 0;
  const fraction = byBytes ? progress.bytesDone / progress.bytesTotal : progress.filesTotal > 0 ? progress.filesDone / progress.filesTotal : 0;
  const running = status === 'running';
  // A cancelled job's rows describe downloads that were deleted; a job from an earlier launch
  // whose journal is gone has none (its counts come from the record).
  const showRows = status !== 'cancelled' && files.length > 0;
  const failedCount = counts.failed ?? record.failedCount;
  const waitingForServer = useMemo(() => files.some((f) => f.state === 'retrying' && f.waitingForServer), [files]);
  const tone = status === 'failed' ? 'danger' : status === 'paused' || status === 'interrupted' ? 'muted' : 'accent';
  const statusTone: Tone = status === 'failed' ? 'danger' : status === 'done' ? 'success' : status === 'running' ? 'progress' : 'warn';
  // Files read from a folder (a "404" is a file gone from it): the job's kind once listed; a URL
  // list saved as a local file is not a folder, its files come over HTTP.
  const local = record.kind ? record.kind === 'folder' : isLocalSource(record.source);
  const measuring = measuringSpeed(status, progress, { listing: job.listing !== null, stale: job.speedStale === true });

  return (
    <div className="screen screen-progress">
      <header className="screen-header row-between">
        <div>
          <h1>
            {t(status === 'running' || status === 'pausing' ? 'progressTitle' : 'progressTitleStopped')} <Badge tone={statusTone}>{t(`status_${status}`)}</Badge>
          </h1>
          {/* The folder icon stays with its path at 900 px: only the path's text wraps. */}
          <p className="lead path-line">
            <Icon name="server" size={16} /> <span className="path-host">{hostOf(record.source)}</span> <span className="arrow">→</span> <Icon name="folder" size={16} /> <span className="path-text">{record.outDir}</span>
          </p>
        </div>
        <div className="row gap" ref={header}>
          {running && (
            <button type="button" className="btn" onClick={act(onPause)}>
              <Icon name="pause" /> {t('pause')}
            </button>
          )}
          {(status === 'paused' || status === 'interrupted') && (
            <button type="button" className="btn btn-primary" onClick={act(onResume)}>
              <Icon name="play" /> {t('resume')}
            </button>
          )}
          {status === 'failed' && failedCount > 0 && (
            <>
              <button type="button" className="btn" onClick={act(onFinishWithout)} title={t('finishWithoutHint')}>
                <Icon name={record.mode === 'folder' ? 'check' : 'archive'} /> {t(record.mode === 'folder' ? 'finishWithout' : 'bundleWithout')}
              </button>
              <button type="button" className="btn btn-primary" onClick={act(onRetry)}>
                <Icon name="refresh" /> {t('retryFailed')}
              </button>
            </>
          )}
          {/* Stopped by an error of the job itself (disk full, the archive…), no file failed: it resumes. */}
          {status === 'failed' && failedCount === 0 && (
            <button type="button" className="btn btn-primary" onClick={act(onResume)}>
              <Icon name="play" /> {t('resume')}
            </button>
          )}
          {status === 'cancelled' && (
            <button type="button" className="btn btn-primary" onClick={onNew}>
              <Icon name="download" /> {t('newDownload')}
            </button>
          )}
          {(running || status === 'paused' || status === 'interrupted' || status === 'failed') && (
            <button type="button" className="btn btn-danger-ghost" ref={cancelButton} onClick={() => setConfirming(true)}>
              <Icon name="x" /> {t('cancel')}
            </button>
          )}
        </div>
      </header>
      {confirming && (
        <div className="banner banner-danger" role="alertdialog" aria-label={t('confirmCancel')}>
          <Icon name="alert" size={22} />
          <span className="banner-text">{t('confirmCancel')}</span>
          <button type="button" className="btn btn-danger" onClick={() => { setConfirming(false); act(onCancel)(); }}>
            {t('discardDownloads')}
          </button>
          <button type="button" className="btn btn-ghost" ref={keepGoing} onClick={closeConfirm}>
            {t('keepGoing')}
          </button>
        </div>
      )}
      <section className="card overall">
        {/* A cancelled job's figures describe downloads that are gone: its note says what stayed. */}
        {status !== 'cancelled' && (
          <>
          <div className="overall-top">
            <span className="overall-percent">{Math.floor(fraction * 100)}%</span>
            {job.bundle && (running || status === 'done') && (
              <Badge tone={job.bundle.state === 'done' ? 'success' : 'info'}>
                <Icon name="archive" size={14} />{' '}
                {job.bundle.state === 'writing'
                  ? t('bundleWriting', { percent: job.bundle.bytesTotal ? Math.floor((100 * (job.bundle.bytesDone ?? 0)) / job.bundle.bytesTotal) : 0 })
                  : job.bundle.state === 'verifying' ? t('bundleVerifying') : t('bundleDone')}
              </Badge>
            )}
          </div>
          <ProgressBar value={fraction} label={t('overallProgress')} size="large" tone={tone} />
          <div className="stats">
            <Stat icon="download" label={t('downloaded')} value={byBytes ? t('bytesOf', { done: formatBytes(progress.bytesDone), total: formatBytes(progress.bytesTotal) }) : formatBytes(progress.bytesDone)} />
            <Stat icon="gauge" label={t('speed')} value={measuring ? formatSpeed(progress.speed) : '—'} />
            <Stat icon="clock" label={t('eta')} value={measuring ? formatDuration(progress.etaSeconds, locale) : t('unknownEta')} />
            <Stat icon="film" label={t('files')} value={t('bytesOf', { done: progress.filesDone, total: progress.filesTotal })} />
          </div>
          </>
        )}
        {running && job.listing && <p className="note" role="status"><span className="spinner" /> {listingStatus(t, job.listing)}</p>}
        {running && waitingForServer && <p className="note warn"><Icon name="alert" size={14} /> {t('serverDownNote')}</p>}
        {status === 'paused' && <p className="note"><Icon name="pause" size={14} /> {t('pausedNote')}</p>}
        {status === 'cancelled' && <p className="note"><Icon name="x" size={14} /> {t(cancelledNote(record))}</p>}
        {status === 'failed' && failedCount > 0 && <p className="note danger"><Icon name="alert" size={14} /> {t(failedCount === 1 ? 'failedSummaryOne' : 'failedSummary', { count: failedCount })}</p>}
        {record.error && <ErrorNote error={record.error} />}
      </section>
      {showRows && <div className="chips">
        {(['queued', 'downloading', 'saving', 'retrying', 'verified', 'zipped', 'failed'] as const).map((s) =>
          counts[s] ? (
            <Badge key={s} tone={stateTone[s]}>
              {t(`chip_${s}`)} · {counts[s]}
            </Badge>
          ) : null,
        )}
      </div>}
      {/* Focusable, so the keyboard scrolls it (arrows, Page Up/Down): its rows are not. */}
      {showRows && <div className="file-list" ref={scrollRef} role="list" aria-label={t('files')} tabIndex={0}>
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((v) => {
            const f = files[v.index]!;
            const name = displayName(f.name);
            return (
              <div key={f.id} role="listitem" className={`file-row state-${f.state}`} style={{ position: 'absolute', top: 0, left: 0, right: 0, height: rowHeight, transform: `translateY(${v.start}px)` }}>
                <Icon name="film" className="file-icon" />
                <span className="ellipsis file-name" title={name}>{name}</span>
                {/* A failed row's reason takes the bar's and the size's room too, on up to two lines (900 px). */}
                {f.state !== 'failed' && <span className="file-bar">{f.size && (f.state === 'downloading' || (f.state === 'queued' && f.bytesDone > 0)) ? <ProgressBar value={f.bytesDone / f.size} label={name} size="mini" tone={f.state === 'queued' ? 'muted' : 'accent'} /> : null}</span>}
                {f.state !== 'failed' && <span className="num muted small">{formatBytes(f.size)}</span>}
                <Badge tone={stateTone[f.state]} title={f.reason ?? undefined}>{fileStateLabel(t, f, local)}</Badge>
              </div>
            );
          })}
        </div>
      </div>}
    </div>
  );
}

function Stat({ icon, label, value }: { icon: 'download' | 'gauge' | 'clock' | 'film'; label: string; value: string }) {
  return (
    <div className="stat">
      <Icon name={icon} size={20} />
      <div>
        <div className="stat-label">{label}</div>
        <div className="stat-value">{value}</div>
      </div>
    </div>
  );
}
