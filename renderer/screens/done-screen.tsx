// Done: the archives with size and SHA-256 (copy button), Open folder and Show in folder.
import { useState } from 'react';
import type { JobRecord, JobSummary } from '../../electron/core/contract.ts';
import { displayName } from '../components/display-name.ts';
import { failureReason, isLocalSource } from '../components/failure-reason.ts';
import { baseName, formatBytes } from '../components/format.ts';
import { Icon } from '../components/icons.tsx';
import { useI18n } from '../i18n/i18n.tsx';

export interface DoneScreenProps {
  job: JobRecord;
  summary: JobSummary | null;
  onOpenFolder(): void;
  onShow(path: string): void;
  onNew(): void;
}

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (no focus / permission): fall back to a selection copy.
    const area = document.createElement('textarea');
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function DoneScreen({ job, summary, onOpenFolder, onShow, onNew }: DoneScreenProps) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<string | null>(null);
  const archives = job.outputs;
  const loose = job.looseFiles;
  // A job from an earlier launch has no summary: its record counts what arrived.
  const files = summary?.files ?? job.filesDone;
  const bytes = summary?.bytes ?? job.bytesDone;
  const failed = summary?.failed ?? [];

  return (
    <div className="screen screen-done">
      <div className="hero">
        <div className="hero-icon"><Icon name="checkCircle" size={44} /></div>
        <div>
          <h1>{t(job.mode === 'folder' ? 'doneTitleFolder' : 'doneTitle')}</h1>
          <p className="lead">{job.failedCount > 0 ? t(job.mode === 'folder' ? 'doneLeadWithoutFolder' : job.failedCount === 1 ? 'doneLeadWithoutOne' : 'doneLeadWithout', { files, size: formatBytes(bytes), failed: job.failedCount }) : t('doneLead', { files, size: formatBytes(bytes) })}</p>
          <p className="muted path-line"><Icon name="folder" size={16} /> <span className="path-text">{job.outDir}</span></p>
        </div>
      </div>
      {archives.length > 0 && (
        <section>
          <h2>{t('archives')}</h2>
          <ul className="archive-list">
            {archives.map((o) => {
              const name = displayName(baseName(o.path));
              return (
                <li key={o.path} className="card archive">
                  <div className="archive-icon"><Icon name="archive" size={28} /></div>
                  <div className="archive-main">
                    <div className="archive-name">{name}</div>
                    <div className="archive-meta">
                      <span className="size-pill">{formatBytes(o.size)}</span>
                      <span className="hash-label">{t('sha256')}</span>
                      <code className="hash" title={o.sha256}>{o.sha256}</code>
                      <button type="button" className="btn btn-small" aria-label={t('copyHash', { name })} onClick={() => void copyText(o.sha256).then(() => setCopied(o.path))}>
                        <Icon name={copied === o.path ? 'check' : 'copy'} size={14} /> {copied === o.path ? t('copied') : t('copy')}
                      </button>
                    </div>
                  </div>
                  <button type="button" className="btn btn-ghost" onClick={() => onShow(o.path)}>
                    {t('showInFolder')}
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      {loose > 0 && <p className="muted"><Icon name="folder" size={14} /> {t('looseFiles', { count: loose, folder: job.outDir })}</p>}
      {failed.length > 0 && (
        <details className="card failed-list">
          <summary>{t('failedFilesTitle', { count: failed.length })}</summary>
          <ul>
            {/* Why, in the user's words (by the failure's kind); the engine's message is the detail. */}
            {failed.map((f) => {
              const reason = failureReason(t, { reason: f.reason, code: f.code, httpStatus: f.httpStatus }, isLocalSource(f.sourceUrl ?? job.source));
              return (
                <li key={f.name}>
                  <span className="file-name">{displayName(f.name)}</span> <span className="failed-reason" title={f.reason}>{reason}</span>
                  {reason !== f.reason && <div className="muted small failed-detail">{f.reason}</div>}
                </li>
              );
            })}
          </ul>
        </details>
      )}
      <footer className="action-bar">
        <button type="button" className="btn btn-ghost" onClick={onNew}>
          {t('newDownload')}
        </button>
        <button type="button" className="btn btn-primary btn-large" onClick={onOpenFolder}>
          <Icon name="folder" /> {t('openFolder')}
        </button>
      </footer>
    </div>
  );
}
