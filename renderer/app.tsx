// The app shell: sidebar, screen switching, and the state shared between screens.
// Talks to the app only through the contract client (IPC in Electron, WebSocket in a browser).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AppInfo, Connection, ContractError, Events, FileRow, JobRecord, JobSnapshot, ListingCount, Locale, Reply, Settings } from '../electron/core/contract.ts';
import { Icon } from './components/icons.tsx';
import type { IconName } from './components/icons.tsx';
import { errorHint } from './components/error-hint.ts';
import { hostOf } from './components/format.ts';
import { detectLocale, I18nProvider, translator } from './i18n/i18n.tsx';
import type { MessageKey } from './i18n/messages-en.ts';
import { BundleScreen, volumeBytes } from './screens/bundle-screen.tsx';
import type { BundleChoices } from './screens/bundle-screen.tsx';
import { ConnectScreen } from './screens/connect-screen.tsx';
import { DoneScreen } from './screens/done-screen.tsx';
import { JobsScreen } from './screens/jobs-screen.tsx';
import { ProgressScreen } from './screens/progress-screen.tsx';
import type { JobView } from './screens/progress-screen.tsx';
import { ResultsScreen } from './screens/results-screen.tsx';
import type { AppClient } from './transport/contract-client.ts';
import { isActiveJob } from './components/job-status.ts';

type Screen = 'connect' | 'results' | 'bundle' | 'progress' | 'done' | 'jobs';

/** `restarted`: the snapshot answers a Resume or Retry, whose speed and ETA are the last run's. */
function toView(s: JobSnapshot, restarted = false): JobView {
  return { ...s, files: new Map(s.files.map((f) => [f.id, f])), speedStale: restarted };
}

function merge(view: JobView, change: Events['job']): JobView {
  let files = view.files;
  if (change.files.length) {
    files = new Map(view.files);
    for (const f of change.files) files.set(f.id, f as FileRow);
  }
  // Events carry the warnings from index warningsFrom on (the rest the view has already).
  const warnings = change.warnings.length === 0 && change.warningsFrom === view.warnings.length
    ? view.warnings
    : [...view.warnings.slice(0, change.warningsFrom), ...change.warnings];
  // A restarted job keeps the speed it had when it stopped until the engine measures a new one
  // (its first figures differ): until then the screen shows no speed and no ETA.
  const speedStale = view.speedStale === true && change.progress.speed === view.progress.speed && change.progress.etaSeconds === view.progress.etaSeconds;
  return { ...view, job: change.job, progress: change.progress, listing: change.listing, bundle: change.bundle, warnings, summary: change.summary, files, speedStale };
}

export function App({ client }: { client: AppClient }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [screen, setScreen] = useState<Screen>('connect');
  const [connection, setConnection] = useState<Connection | null>(null);
  const [token, setToken] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [onlyNew, setOnlyNew] = useState(false);
  const [choices, setChoices] = useState<BundleChoices>({ folder: '', name: '', mode: 'zip', volume: 'none', customGb: '8' });
  const [jobs, setJobs] = useState<JobRecord[]>([]);
  const [job, setJob] = useState<JobView | null>(null);
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [listing, setListing] = useState<ListingCount | null>(null);
  /** Which connect the screen waits for: a stopped or replaced one's answer is dropped. */
  const connectSeq = useRef(0);
  const [error, setError] = useState<ContractError | null>(null);
  // An error is about what was just tried: it goes with Escape, and when the user moves on.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setError(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => setError(null), [screen]);
  // Keyboard and screen-reader users land on the new screen: its heading takes the focus,
  // unless the screen put it somewhere itself (the server field's autofocus).
  const firstScreen = useRef(true);
  useEffect(() => {
    if (firstScreen.current) {
      firstScreen.current = false;
      return;
    }
    if (document.activeElement && document.activeElement !== document.body && document.querySelector('.main')?.contains(document.activeElement)) return;
    const heading = document.querySelector<HTMLElement>('.main h1');
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }, [screen]);
  const [online, setOnline] = useState(true);
  /** The browser host answers but refuses this page: restarted with a new token (see ConnectionWatcher). */
  const [refused, setRefused] = useState(false);
  const jobId = useRef<string | null>(null);

  const locale: Locale = settings?.locale ?? detectLocale(navigator.languages.length ? navigator.languages : [navigator.language]);
  const t = useMemo(() => translator(locale), [locale]);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = 'Reelpack';
  }, [locale]);

  /** Runs a command; shows its error in the toast and returns null on failure. */
  const run = useCallback(async <T,>(reply: Promise<Reply<T>>): Promise<T | null> => {
    const r = await reply;
    if (r.ok) return r.value;
    setError(r.error);
    return null;
  }, []);

  const refreshJobs = useCallback(async (): Promise<JobRecord[]> => {
    const list = await run(client.listJobs({}));
    if (list) setJobs(list);
    if (jobId.current) {
      const snap = await client.getJob({ jobId: jobId.current });
      if (snap.ok) setJob(toView(snap.value));
    }
    return list ?? [];
  }, [client, run]);

  useEffect(() => {
    void (async () => {
      const [i, s] = await Promise.all([run(client.getAppInfo({})), run(client.getSettings({}))]);
      if (i) setInfo(i);
      if (s) {
        setSettings(s);
        if (s.lastFolder) setChoices((c) => ({ ...c, folder: c.folder || s.lastFolder! }));
      }
      const list = await refreshJobs();
      // A page opened (or reloaded) while a job runs: that job is what the user was watching.
      const active = list.find(isActiveJob);
      if (active && !jobId.current) {
        const snap = await client.getJob({ jobId: active.id });
        if (snap.ok && !jobId.current) {
          jobId.current = active.id;
          setJob(toView(snap.value));
          setScreen(snap.value.job.status === 'done' ? 'done' : 'progress'); // it may have finished meanwhile
        }
      }
    })();
    const offJob = client.on('job', (change) => {
      setJobs((list) => {
        const rest = list.filter((j) => j.id !== change.job.id);
        return [change.job, ...rest].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
      });
      if (change.job.id !== jobId.current) return;
      setJob((view) => (view ? merge(view, change) : view));
      if (change.job.status === 'done') setScreen((s) => (s === 'progress' ? 'done' : s));
    });
    const offSettings = client.on('settings', setSettings);
    const offListing = client.on('listing', setListing);
    const offConn = client.onConnectionChange?.((up, hostRefused) => {
      setOnline(up);
      if (up || hostRefused !== undefined) setRefused(Boolean(hostRefused)); // a retry's drop keeps what was known
      if (up) void refreshJobs();
    });
    return () => {
      offJob();
      offSettings();
      offListing();
      offConn?.();
    };
  }, [client, run, refreshJobs]);

  const connect = async (url: string, typedToken: string, remember: boolean) => {
    const seq = ++connectSeq.current;
    setBusy(true);
    setError(null);
    setListing(null);
    const reply = await client.connect({ url, token: typedToken || undefined, rememberToken: remember });
    if (seq !== connectSeq.current) return; // stopped, or replaced by another connect
    setBusy(false);
    setListing(null);
    if (!reply.ok) return setError(reply.error);
    const c = reply.value;
    setToken(typedToken);
    setConnection(c);
    setSelected(new Set(c.items.map((i) => i.id)));
    setScreen('results');
  };

  // After a job, the results it fetched are no longer new: the list says so, and what is
  // selected next is what is left (the catalog has them too, for the next connect).
  const newDownload = () => {
    if (connection && job && job.job.status === 'done' && job.job.source === connection.source) {
      const fetched = new Set(connection.fetchedIds);
      for (const row of job.files.values()) if (row.state === 'verified' || row.state === 'zipped') fetched.add(row.id);
      setConnection({ ...connection, fetchedIds: [...fetched] });
      setSelected(new Set(connection.items.filter((i) => !fetched.has(i.id)).map((i) => i.id)));
    }
    setScreen(connection ? 'results' : 'connect');
  };

  // "Only new" is part of the selection, not just a view: turning it on deselects what was
  // fetched before, so the count, the size and the download all leave those out.
  const chooseOnlyNew = (on: boolean) => {
    setOnlyNew(on);
    if (!on || !connection) return;
    const fetched = new Set(connection.fetchedIds);
    setSelected((prev) => new Set([...prev].filter((id) => !fetched.has(id))));
  };

  const selectedBytes = useMemo(() => connection?.items.reduce((s, i) => s + (selected.has(i.id) ? (i.size ?? 0) : 0), 0) ?? 0, [connection, selected]);
  const largestSelected = useMemo(() => connection?.items.reduce((m, i) => (selected.has(i.id) ? Math.max(m, i.size ?? 0) : m), 0) ?? 0, [connection, selected]);

  const showJob = (snap: JobSnapshot, restarted = false) => {
    jobId.current = snap.job.id;
    setJob(toView(snap, restarted));
    setScreen(snap.job.status === 'done' ? 'done' : 'progress');
  };

  const start = async () => {
    if (!connection) return;
    setBusy(true);
    const snap = await run(
      client.startJob({
        source: connection.source,
        token: token || undefined,
        outDir: choices.folder,
        mode: choices.mode,
        zipName: choices.mode === 'folder' ? undefined : choices.name.trim() || undefined,
        volumeSize: choices.mode === 'folder' ? undefined : volumeBytes(choices, info?.minVolumeBytes ?? 0),
        // Always the ids the user saw and chose, even all of them: without a list the engine
        // lists the server again and takes whatever appeared since (results never shown).
        selectIds: connection.items.filter((i) => selected.has(i.id)).map((i) => i.id),
        onlyNew: false,
      }),
    );
    setBusy(false);
    if (snap) showJob(snap);
  };

  const jobCommand = async (command: 'pauseJob' | 'cancelJob') => {
    if (jobId.current) await run(client[command]({ jobId: jobId.current }));
  };
  const restart = async (command: 'resumeJob' | 'retryFailed', id = jobId.current, bundleWithout?: boolean) => {
    if (!id) return;
    const snap = await run(command === 'retryFailed' ? client.retryFailed({ jobId: id, bundleWithout }) : client.resumeJob({ jobId: id }));
    if (snap) showJob(snap, true);
  };
  const view = async (record: JobRecord) => {
    const snap = await run(client.getJob({ jobId: record.id }));
    if (snap) showJob(snap);
  };
  // Removing an unfinished job cancels it (the Jobs screen asks first). The job is gone: the
  // Progress screen must not keep showing it (its Resume would answer NOT_FOUND).
  const forget = async (record: JobRecord) => {
    const list = await run(client.forgetJob({ jobId: record.id }));
    if (!list) return;
    setJobs(list);
    if (jobId.current === record.id) {
      jobId.current = null;
      setJob(null);
      setScreen((s) => (s === 'progress' || s === 'done' ? 'jobs' : s));
    }
  };

  // Offered for resume on the Server screen: stopped by a crash or quit, or paused.
  const interrupted = jobs.filter((j) => (j.status === 'interrupted' || j.status === 'paused') && !dismissed.has(j.id) && j.id !== jobId.current);
  const nav: { id: Screen; icon: IconName; label: MessageKey; enabled: boolean }[] = [
    { id: 'connect', icon: 'plug', label: 'navConnect', enabled: true },
    { id: 'results', icon: 'list', label: 'navResults', enabled: connection !== null },
    { id: 'bundle', icon: 'package', label: 'navBundle', enabled: connection !== null && selected.size > 0 },
    { id: job?.job.status === 'done' ? 'done' : 'progress', icon: 'download', label: 'navProgress', enabled: job !== null },
    { id: 'jobs', icon: 'history', label: 'navJobs', enabled: true },
  ];

  // Floating, above the action bar; on the Server screen (no action bar) it goes in the form
  // instead, under Connect, where it covers nothing (it covered the Recent servers list).
  const toast = (inline: boolean) => error && (
    <div className={inline ? 'toast toast-inline' : 'toast'} role="alert">
      <Icon name="alert" size={20} />
      <div className="toast-text"><strong>{errorHint(t, error) ?? t('errorTitle')}</strong><div className="small">{error.message} <code>{error.code}</code></div></div>
      <button type="button" className="btn btn-icon" aria-label={t('dismiss')} onClick={() => setError(null)}><Icon name="x" size={16} /></button>
    </div>
  );

  return (
    <I18nProvider locale={locale}>
      <div className="app">
        <aside className="sidebar">
          <div className="brand">
            <div className="brand-mark"><Icon name="film" size={20} /></div>
            <div>
              <div className="brand-name">{t('appName')}</div>
              <div className="brand-tag">{t('tagline')}</div>
            </div>
          </div>
          <nav aria-label="Reelpack">
            {nav.map((n) => (
              <button key={n.label} type="button" className={`nav-item ${screen === n.id || (n.label === 'navProgress' && (screen === 'done' || screen === 'progress')) ? 'active' : ''}`} disabled={!n.enabled} aria-current={screen === n.id ? 'page' : undefined} onClick={() => setScreen(n.id)}>
                <Icon name={n.icon} /> <span>{t(n.label)}</span>
                {n.label === 'navJobs' && interrupted.length > 0 && <span className="nav-dot" aria-hidden="true">{interrupted.length}</span>}
              </button>
            ))}
          </nav>
          <div className="sidebar-foot">
          {connection && (
            <div className="sidebar-conn" title={connection.source}>
              <span className="dot-online" aria-hidden="true" /> {hostOf(connection.source)}
            </div>
          )}
          <label className="lang">
            <Icon name="globe" size={16} />
            <span className="sr-only">{t('language')}</span>
            <select aria-label={t('language')} value={settings?.locale ?? 'auto'} onChange={(e) => void run(client.setLocale({ locale: e.target.value === 'auto' ? null : (e.target.value as Locale) })).then((s) => s && setSettings(s))}>
              <option value="auto">{t('languageAuto', { locale: navigator.language })}</option>
              <option value="en">English</option>
              <option value="zh-CN">简体中文</option>
            </select>
          </label>
          </div>
        </aside>
        {/* Offline, what the screen shows is stale (a speed, "running"): dimmed, and not clickable. */}
        <main className={online ? 'main' : 'main offline'}>
          {!online && <div className="banner banner-warn" role="status"><Icon name="alert" /> {t(refused ? 'connectionRefused' : 'connectionLost')}</div>}
          {error && screen !== 'connect' && toast(false)}
          {screen === 'connect' && (
            <ConnectScreen
              info={info}
              settings={settings}
              connection={connection}
              interrupted={interrupted}
              busy={busy}
              listing={listing}
              errorNote={toast(true)}
              onConnect={(u, tk, r) => void connect(u, tk, r)}
              onStop={() => {
                connectSeq.current++;
                setBusy(false);
                setListing(null);
                void client.cancelConnect({});
              }}
              onForget={(u) => void run(client.forgetServer({ url: u })).then((s) => s && setSettings(s))}
              onResume={(j) => void restart('resumeJob', j.id)}
              onDismiss={(j) => setDismissed((d) => new Set(d).add(j.id))}
            />
          )}
          {screen === 'results' && connection && <ResultsScreen connection={connection} selected={selected} onlyNew={onlyNew} onOnlyNew={chooseOnlyNew} onSelect={setSelected} onNext={() => setScreen('bundle')} />}
          {screen === 'bundle' && connection && (
            <BundleScreen
              choices={choices}
              onChange={(next) => {
                setChoices(next);
                setError(null); // an error about the last Start is answered by changing the choices
              }}
              count={selected.size}
              bytes={selectedBytes}
              largestBytes={largestSelected}
              source={connection.source}
              canBrowse={info?.canBrowse ?? false}
              exampleName={connection.defaultArchiveName}
              minVolumeBytes={info?.minVolumeBytes ?? 0}
              activeJobs={jobs.filter(isActiveJob).map((j) => j.id).join(',')}
              checkFolder={async (p, plan) => { const r = await client.checkFolder({ path: p, plan }); return r.ok ? r.value : null; }}
              browse={() => run(client.chooseFolder({ defaultPath: choices.folder || undefined }))}
              starting={busy}
              onStart={() => void start()}
              onBack={() => setScreen('results')}
            />
          )}
          {screen === 'progress' && job && (
            <ProgressScreen job={job} onPause={() => void jobCommand('pauseJob')} onResume={() => void restart('resumeJob')} onCancel={() => void jobCommand('cancelJob')} onRetry={() => void restart('retryFailed')} onFinishWithout={() => void restart('retryFailed', jobId.current, true)} onNew={newDownload} />
          )}
          {screen === 'done' && job && (
            <DoneScreen job={job.job} summary={job.summary} onOpenFolder={() => void run(client.openJobFolder({ jobId: job.job.id }))} onShow={(p) => void run(client.showOutput({ jobId: job.job.id, path: p }))} onNew={newDownload} />
          )}
          {screen === 'jobs' && (
            <JobsScreen jobs={jobs} onView={(j) => void view(j)} onResume={(j) => void restart('resumeJob', j.id)} onForget={forget} />
          )}
        </main>
      </div>
    </I18nProvider>
  );
}
