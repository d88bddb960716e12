// Connect: server URL (+ optional token), recent servers, and interrupted jobs offered for resume.
import { useEffect, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import type { AppInfo, Connection, JobRecord, ListingCount, Settings } from '../../electron/core/contract.ts';
import { Badge } from '../components/badge.tsx';
import { formatBytes, formatDate } from '../components/format.ts';
import { Icon } from '../components/icons.tsx';
import { listingStatus } from '../components/listing-status.ts';
import { useI18n } from '../i18n/i18n.tsx';

export interface ConnectScreenProps {
  info: AppInfo | null;
  settings: Settings | null;
  connection: Connection | null;
  interrupted: JobRecord[];
  busy: boolean;
  /** How far the connect in progress has listed (null until its first page or folder). */
  listing: ListingCount | null;
  /** The last command's error, shown in the form (a floating toast would cover the Recent servers list). */
  errorNote: ReactNode;
  onConnect(url: string, token: string, remember: boolean): void;
  /** Stops the connect in progress (a slow or wrong server). */
  onStop(): void;
  onForget(url: string): void;
  onResume(job: JobRecord): void;
  onDismiss(job: JobRecord): void;
}

export function ConnectScreen(props: ConnectScreenProps) {
  const { t, locale } = useI18n();
  const [url, setUrl] = useState(props.connection?.source ?? props.settings?.recentServers[0]?.url ?? '');
  // On a fresh page the settings arrive after the first render: fill in the last server then,
  // unless something was typed meanwhile.
  const lastServer = props.settings?.recentServers[0]?.url;
  useEffect(() => {
    if (lastServer) setUrl((typed) => typed || lastServer);
  }, [lastServer]);
  // The filled-in address is selected while the field has its first focus, so typing replaces
  // it rather than appending to it; once the user types or leaves the field, it is theirs.
  const field = useRef<HTMLInputElement>(null);
  const selectFilled = useRef(true);
  useEffect(() => {
    const input = field.current;
    if (!selectFilled.current || !input || url === '' || document.activeElement !== input) return;
    input.select();
    selectFilled.current = false;
  }, [url]);
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onConnect(url, token, remember);
  };
  return (
    <div className="screen screen-connect">
      {props.interrupted.map((job) => (
        <div className="banner banner-warn" role="alert" key={job.id}>
          <Icon name="history" size={22} />
          <div className="banner-text">
            <strong>{t(job.status === 'paused' ? 'pausedTitle' : 'interruptedTitle')}</strong>
            <span>{t('interruptedBody', { source: job.source, folder: job.outDir, done: job.filesDone, total: job.filesTotal })}</span>
          </div>
          <button type="button" className="btn btn-primary" onClick={() => props.onResume(job)}>
            <Icon name="play" /> {t('resumeJob')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => props.onDismiss(job)}>
            {t('dismiss')}
          </button>
        </div>
      ))}
      <header className="screen-header">
        <h1>{t('connectTitle')}</h1>
        <p className="lead">{t('connectLead')}</p>
      </header>
      <form className="card connect-card" onSubmit={submit}>
        <label className="field">
          <span className="field-label">{t('serverUrl')}</span>
          <div className="input-with-icon">
            <Icon name="server" />
            <input type="text" ref={field} value={url} onChange={(e) => { selectFilled.current = false; setUrl(e.target.value); }} onBlur={() => { selectFilled.current = false; }} placeholder="http://192.168.1.20:8383" spellCheck={false} autoFocus />
          </div>
          <span className="field-hint">{t('serverUrlHint')}</span>
        </label>
        <label className="field">
          <span className="field-label">{t('token')}</span>
          <input type="password" value={token} onChange={(e) => setToken(e.target.value)} autoComplete="off" />
        </label>
        {props.info?.canRememberTokens && (
          <label className="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            {t('rememberToken')}
          </label>
        )}
        <div className="actions">
          <button type="submit" className="btn btn-primary btn-large" disabled={props.busy || url.trim() === ''}>
            <Icon name="plug" /> {t('connect')}
          </button>
          {props.busy && (
            <>
              <span className="spinner-text" role="status">
                <span className="spinner" /> {listingStatus(t, props.listing)}
              </span>
              <button type="button" className="btn btn-ghost" onClick={props.onStop}>
                <Icon name="x" /> {t('stopListing')}
              </button>
            </>
          )}
        </div>
        {props.errorNote}
      </form>
      <section className="recent">
        <h2>{t('recentServers')}</h2>
        {props.settings?.recentServers.length ? (
          <ul className="recent-list">
            {props.settings.recentServers.map((s) => (
              <li key={s.url} className="recent-item">
                <button type="button" className="recent-main" title={s.url} onClick={() => setUrl(s.url)} onDoubleClick={() => props.onConnect(s.url, '', false)}>
                  <Icon name={s.kind === 'folder' ? 'folder' : 'server'} size={20} />
                  <span className="recent-url">{s.url}</span>
                  {s.kind && <Badge tone="neutral">{t(`kind_${s.kind}`)}</Badge>}
                  {s.count !== undefined && <span className="muted">{t('resultsSummary', { count: s.count, size: formatBytes(s.totalBytes ?? 0) })}</span>}
                  <span className="muted small">{formatDate(s.lastUsed, locale)}</span>
                </button>
                <button type="button" className="btn btn-icon" aria-label={t('forget', { url: s.url })} title={t('forget', { url: s.url })} onClick={() => props.onForget(s.url)}>
                  <Icon name="x" size={16} />
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">{t('noRecent')}</p>
        )}
      </section>
    </div>
  );
}
