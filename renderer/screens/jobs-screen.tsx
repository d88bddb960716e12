// Jobs: past and interrupted jobs; interrupted, paused or failed ones can be resumed from here.
import { useEffect, useRef, useState } from 'react';
import type { JobRecord, JobStatus } from '../../electron/core/contract.ts';
import { Badge } from '../components/badge.tsx';
import type { Tone } from '../components/badge.tsx';
import { formatBytes, formatDate, hostOf } from '../components/format.ts';
import { errorHint } from '../components/error-hint.ts';
import { Icon } from '../components/icons.tsx';
import { isActiveJob } from '../components/job-status.ts';
import { useI18n } from '../i18n/i18n.tsx';

const tones: Record<JobStatus, Tone> = {
  running: 'progress',
  pausing: 'warn',
  paused: 'warn',
  cancelling: 'warn',
  cancelled: 'neutral',
  done: 'success',
  failed: 'danger',
  interrupted: 'warn',
};

export interface JobsScreenProps {
  jobs: JobRecord[];
  onView(job: JobRecord): void;
  onResume(job: JobRecord): void;
  /** Resolves once the job is removed (or the removal failed). */
  onForget(job: JobRecord): Promise<void>;
}

/** Removing such a job cancels it first: its partial downloads are deleted (see forgetJob). */
function isUnfinished(job: JobRecord): boolean {
  return job.status !== 'done' && job.status !== 'cancelled';
}

export function JobsScreen({ jobs, onView, onResume, onForget }: JobsScreenProps) {
  const { t, locale } = useI18n();
  /** The job whose removal waits for a yes (an unfinished one: removing it deletes its downloads). */
  const [confirming, setConfirming] = useState<string | null>(null);
  const keep = useRef<HTMLButtonElement>(null);
  const trash = useRef(new Map<string, HTMLButtonElement>());
  // The question takes the focus (on the harmless choice); Escape or Keep returns it to the trash button.
  const closeConfirm = (id: string) => {
    setConfirming(null);
    requestAnimationFrame(() => trash.current.get(id)?.focus());
  };
  useEffect(() => {
    if (!confirming) return;
    keep.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') closeConfirm(confirming);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [confirming]);
  // The card (and its focused button) goes away: the focus goes to the heading, not the page.
  const forget = (job: JobRecord) => void onForget(job).then(() => {
    if (document.activeElement === document.body || !document.activeElement?.isConnected) document.querySelector<HTMLElement>('.screen-jobs h1')?.focus();
  });
  const remove = (job: JobRecord) => {
    if (isUnfinished(job)) setConfirming(job.id);
    else forget(job); // finished archives and files stay: nothing to ask
  };
  return (
    <div className="screen screen-jobs">
      <header className="screen-header">
        <h1 tabIndex={-1}>{t('jobsTitle')}</h1>
        <p className="lead">{t('jobsLead')}</p>
      </header>
      {jobs.length === 0 && <p className="empty card">{t('noJobs')}</p>}
      <ul className="job-list">
        {jobs.map((job) => {
          const resumable = job.status === 'interrupted' || job.status === 'paused' || job.status === 'failed';
          const active = isActiveJob(job);
          return (
            <li key={job.id} className={`card job-card status-${job.status}`}>
              <div className="job-icon"><Icon name={job.status === 'done' ? 'archive' : resumable ? 'history' : 'package'} size={24} /></div>
              <div className="job-main">
                <div className="job-title">
                  <strong>{hostOf(job.source)}</strong> <Badge tone={tones[job.status]}>{t(`status_${job.status}`)}</Badge>
                </div>
                <div className="muted small path-line"><Icon name="folder" size={14} /> <span className="path-text">{job.outDir}</span></div>
                <div className="muted small">
                  {formatDate(job.updatedAt, locale)} · {resumable
                    ? t('jobFilesDone', { done: job.filesDone, count: job.filesTotal, size: formatBytes(job.bytesTotal) })
                    : job.status === 'done'
                      ? t('jobFiles', { count: job.filesDone, size: formatBytes(job.bytesDone) }) + (job.failedCount > 0 ? ` · ${t('jobLeftOut', { count: job.failedCount })}` : '')
                      : t('jobFiles', { count: job.filesTotal, size: formatBytes(job.bytesTotal) })}
                  {job.error && <span className="danger" title={job.error.message}> · {errorHint(t, job.error) ?? job.error.message}</span>}
                </div>
              </div>
              <div className="row gap">
                {resumable && (
                  <button type="button" className="btn btn-primary" onClick={() => onResume(job)}>
                    <Icon name={job.failedCount > 0 ? 'refresh' : 'play'} /> {t(job.failedCount > 0 ? 'retryFailed' : 'resumeJob')}
                  </button>
                )}
                <button type="button" className="btn" onClick={() => onView(job)}>
                  {t('view')}
                </button>
                {!active && (
                  <button type="button" className="btn btn-icon" aria-label={t('forgetJob')} title={t('forgetJob')} aria-expanded={isUnfinished(job) ? confirming === job.id : undefined} ref={(el) => { if (el) trash.current.set(job.id, el); else trash.current.delete(job.id); }} onClick={() => remove(job)}>
                    <Icon name="trash" size={16} />
                  </button>
                )}
              </div>
              {confirming === job.id && !active && (
                <div className="banner banner-danger job-confirm" role="alertdialog" aria-label={t('forgetJob')}>
                  <Icon name="alert" size={22} />
                  <span className="banner-text">{t('confirmForget', { folder: job.outDir })}</span>
                  <button type="button" className="btn btn-danger" onClick={() => { setConfirming(null); forget(job); }}>
                    {t('forgetAndDiscard')}
                  </button>
                  <button type="button" className="btn btn-ghost" ref={keep} onClick={() => closeConfirm(job.id)}>
                    {t('keepJob')}
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
