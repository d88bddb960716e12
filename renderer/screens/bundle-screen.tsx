// Bundle: where to save (typed and validated, or the native dialog in Electron), the bundle's
// name, ZIP / folder / both, volume size, and free space against what is needed.
import { useEffect, useState } from 'react';
import type { BundleMode, FolderCheck, FolderPlan } from '../../electron/core/contract.ts';
import { formatBytes } from '../components/format.ts';
import { Icon } from '../components/icons.tsx';
import type { IconName } from '../components/icons.tsx';
import { ProgressBar } from '../components/progress-bar.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages-en.ts';

export type VolumeChoice = 'none' | '2' | '4' | 'custom';
export interface BundleChoices {
  folder: string;
  name: string;
  mode: BundleMode;
  volume: VolumeChoice;
  customGb: string;
}

/** The volume size chosen, in bytes; undefined for none or for a custom size under `minBytes` (AppInfo.minVolumeBytes). */
export function volumeBytes(c: BundleChoices, minBytes: number): number | undefined {
  // Decimal GB, so a "4 GB" volume also fits FAT32's 4 GiB − 1 limit.
  if (c.volume === '2') return 2_000_000_000;
  if (c.volume === '4') return 4_000_000_000;
  if (c.volume === 'custom') {
    // Sizes past 2^53 are not byte counts.
    const bytes = Math.round(Number(c.customGb) * 1_000_000_000);
    return Number.isSafeInteger(bytes) && bytes >= minBytes ? bytes : undefined;
  }
  return undefined;
}

export interface BundleScreenProps {
  choices: BundleChoices;
  onChange(next: BundleChoices): void;
  count: number;
  bytes: number;
  /** Listed size of the largest selected file (the space estimate needs it with volumes). */
  largestBytes: number;
  source: string;
  canBrowse: boolean;
  /** The default archive name (Connection.defaultArchiveName), shown as the name's example. */
  exampleName: string;
  minVolumeBytes: number;
  /** The app's running jobs (their ids), so the folder is checked again when one starts or stops. */
  activeJobs: string;
  checkFolder(path: string, plan: FolderPlan): Promise<FolderCheck | null>;
  browse(): Promise<string | null>;
  starting: boolean;
  onStart(check: FolderCheck): void;
  onBack(): void;
}

export function BundleScreen(props: BundleScreenProps) {
  const { t } = useI18n();
  const { choices, onChange } = props;
  /** The last answer, with the folder and plan it answered for (`key`). */
  const [answer, setAnswer] = useState<{ key: string; check: FolderCheck | null } | null>(null);
  const set = (patch: Partial<BundleChoices>) => onChange({ ...choices, ...patch });

  // Checked again when anything the estimate depends on changes: the app computes what the job
  // will need there with the job's own rule (zip mode stages downloads: about twice the batch).
  const volume = choices.mode === 'folder' ? undefined : volumeBytes(choices, props.minVolumeBytes);
  const plan: FolderPlan = { source: props.source, mode: choices.mode, volumeSize: volume, bytes: props.bytes, largestBytes: props.largestBytes };
  // Also when a job starts or stops: a folder busy with one is free again once it finishes.
  const key = JSON.stringify([choices.folder, plan, props.activeJobs]);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      void props.checkFolder(choices.folder, plan).then((c) => live && setAnswer({ key, check: c }));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key]);
  // An answer for other choices is still shown (no flicker) but cannot start the job: switching
  // from Folder to ZIP must not start a ZIP on the Folder estimate.
  const check = answer?.check ?? null;
  const fresh = answer?.key === key;

  const need = check?.neededBytes ?? props.bytes;
  const free = check?.freeBytes ?? null;
  const enough = free === null || free >= need;
  const problem = check?.problem ?? null;
  // An unfinished job of another source: the engine refuses to start there (and must never discard it).
  const otherJob = check?.interruptedJob && check.interruptedJob.source !== props.source ? check.interruptedJob : null;
  const badVolume = choices.mode !== 'folder' && choices.volume === 'custom' && volumeBytes(choices, props.minVolumeBytes) === undefined;
  // The bundle name is a file name in the folder (the app refuses a path the same way).
  // The app refuses both the same way (startJob): a path, and a name that would be hidden or empty ("..", ".zip").
  const nameProblem = choices.mode === 'folder' ? null : /[\\/]/.test(choices.name) ? 'bundleNameNoPath' : /^\s*\./.test(choices.name) ? 'bundleNameDot' : null;
  const badName = nameProblem !== null;
  const ready = fresh && check !== null && check.path !== '' && problem === null && otherJob === null && !check.busy && enough && props.count > 0 && !badVolume && !badName;

  const modes: { value: BundleMode; icon: IconName; label: MessageKey; hint: MessageKey }[] = [
    { value: 'zip', icon: 'archive', label: 'modeZip', hint: 'modeZipHint' },
    { value: 'folder', icon: 'folder', label: 'modeFolder', hint: 'modeFolderHint' },
    { value: 'both', icon: 'package', label: 'modeBoth', hint: 'modeBothHint' },
  ];
  const volumes: { value: VolumeChoice; label: MessageKey }[] = [
    { value: 'none', label: 'volumeNone' },
    { value: '2', label: 'volume2' },
    { value: '4', label: 'volume4' },
    { value: 'custom', label: 'volumeCustom' },
  ];

  return (
    <div className="screen screen-bundle">
      <header className="screen-header">
        <h1>{t('bundleTitle')}</h1>
        <p className="lead">{t(choices.mode === 'folder' ? 'bundleLeadFolder' : 'bundleLead', { count: props.count, size: formatBytes(props.bytes) })}</p>
      </header>
      <div className="card form-card">
        <label className="field">
          <span className="field-label">{t('saveTo')}</span>
          <div className="row gap">
            <div className="input-with-icon grow">
              <Icon name="folder" />
              <input type="text" value={choices.folder} onChange={(e) => set({ folder: e.target.value })} spellCheck={false} aria-invalid={problem !== null && choices.folder !== ''} />
            </div>
            {props.canBrowse && (
              <button type="button" className="btn" onClick={() => void props.browse().then((p) => p && set({ folder: p }))}>
                {t('browse')}
              </button>
            )}
          </div>
          {!props.canBrowse && <span className="field-hint">{t('saveToHint')}</span>}
        </label>
        <div className="folder-status" aria-live="polite">
          {check && problem && choices.folder !== '' && (
            <span className="status-line danger"><Icon name="alert" size={16} /> {t(`folderProblem_${problem}` as MessageKey)}</span>
          )}
          {check && !problem && !otherJob && (
            <div className="space">
              <span className={`status-line ${enough ? 'success' : 'danger'}`}>
                <Icon name={enough ? 'checkCircle' : 'alert'} size={16} />{' '}
                {!enough
                  ? t('folderNotEnough', { need: formatBytes(need), free: formatBytes(free) })
                  : t(check.exists ? 'folderOk' : 'folderNew', { free: free === null ? '?' : formatBytes(free) })}
              </span>
              {free !== null && (
                <div className="space-bar">
                  <Icon name="hardDrive" size={16} />
                  <ProgressBar value={free > 0 ? Math.min(1, need / free) : 1} label={t('spaceNeeded', { need: formatBytes(need) })} size="mini" tone={enough ? 'accent' : 'danger'} />
                  <span className="muted small">{t('spaceNeeded', { need: formatBytes(need) })}</span>
                </div>
              )}
              {!enough && choices.mode === 'zip' && volume === undefined && <span className="muted small">{t('spaceZipStaging')}</span>}
              {!enough && choices.mode === 'both' && <span className="muted small">{t('spaceBoth')}</span>}
              {check.interruptedJob && !check.busy && <span className="status-line warn"><Icon name="history" size={16} /> {t('folderHasJob', { source: check.interruptedJob.source })}</span>}
            </div>
          )}
          {/* busy: that job is running in this app now, so it cannot be resumed from Jobs: wait for it. */}
          {check && !problem && otherJob && <span className="status-line danger"><Icon name="alert" size={16} /> {t(check.busy ? 'folderBusyOther' : 'folderHasOtherJob', { source: otherJob.source })}</span>}
          {check && !problem && !otherJob && check.busy && <span className="status-line danger"><Icon name="alert" size={16} /> {t('folderBusy')}</span>}
        </div>
        <label className="field">
          <span className="field-label">{t('bundleName')}</span>
          <input type="text" value={choices.name} onChange={(e) => set({ name: e.target.value })} placeholder={choices.mode === 'folder' ? '' : t('bundleNamePlaceholder', { example: props.exampleName })} spellCheck={false} disabled={choices.mode === 'folder'} aria-invalid={badName} />
          {nameProblem && <span className="status-line danger small"><Icon name="alert" size={14} /> {t(nameProblem)}</span>}
        </label>
        <fieldset className="field">
          <legend className="field-label">{t('mode')}</legend>
          <div className="segmented tiles">
            {modes.map((m) => (
              <label key={m.value} className={`tile ${choices.mode === m.value ? 'on' : ''}`}>
                <input type="radio" name="mode" value={m.value} checked={choices.mode === m.value} onChange={() => set({ mode: m.value })} />
                <Icon name={m.icon} size={22} />
                <span className="tile-label">{t(m.label)}</span>
                <span className="tile-hint">{t(m.hint)}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset className="field" disabled={choices.mode === 'folder'}>
          <legend className="field-label">{t('volumes')}</legend>
          <div className="segmented">
            {volumes.map((v) => (
              <label key={v.value} className={`seg ${choices.volume === v.value ? 'on' : ''}`}>
                <input type="radio" name="volume" value={v.value} checked={choices.volume === v.value} onChange={() => set({ volume: v.value })} />
                {t(v.label)}
              </label>
            ))}
            {choices.volume === 'custom' && (
              <span className="custom-volume">
                <input type="number" min="0.1" step="0.1" aria-label={t('volumeCustomGb')} aria-invalid={badVolume} value={choices.customGb} onChange={(e) => set({ customGb: e.target.value })} /> GB
              </span>
            )}
            {badVolume && <span className="status-line danger small"><Icon name="alert" size={14} /> {t('volumeCustomInvalid')}</span>}
          </div>
        </fieldset>
      </div>
      <footer className="action-bar">
        <button type="button" className="btn btn-ghost" onClick={props.onBack}>
          {t('back')}
        </button>
        <button type="button" className="btn btn-primary btn-large" disabled={!ready || props.starting} onClick={() => check && props.onStart(check)}>
          <Icon name="download" /> {t(choices.mode === 'folder' ? 'downloadToFolder' : 'downloadAndBundle')}
        </button>
      </footer>
    </div>
  );
}
