// What a desktop user expects while a batch runs: taskbar/dock progress, no sleep, a
// notification when it finishes or fails.
import { Notification, powerSaveBlocker } from 'electron';
import type { BrowserWindow } from 'electron';
import type { AppService } from '../core/app/app-service.ts';
import type { Events } from '../core/contract.ts';

export function integrateWithDesktop(service: AppService, window: () => BrowserWindow | null, locale: () => string): () => void {
  let blocker: number | null = null;
  const lastStatus = new Map<string, string>();
  const zh = () => locale().startsWith('zh');

  const update = () => {
    const active = service.activeJobs();
    const win = window();
    if (active.length > 0) {
      if (blocker === null) blocker = powerSaveBlocker.start('prevent-app-suspension');
      const done = active.reduce((s, j) => s + j.progress.bytesDone, 0);
      const total = active.reduce((s, j) => s + j.progress.bytesTotal, 0);
      win?.setProgressBar(total > 0 ? done / total : 2 /* indeterminate */);
    } else {
      if (blocker !== null) powerSaveBlocker.stop(blocker);
      blocker = null;
      win?.setProgressBar(-1);
    }
  };

  const notify = (change: Events['job']) => {
    if (!Notification.isSupported()) return;
    const ok = change.job.status === 'done';
    const title = ok ? (zh() ? '打包完成' : 'Bundle complete') : zh() ? '下载失败' : 'Download failed';
    const body = ok
      ? `${change.job.filesTotal} ${zh() ? '个文件已保存到' : 'files saved to'} ${change.job.outDir}`
      : (change.job.error?.message ?? `${change.job.failedCount} ${zh() ? '个文件失败' : 'files failed'}`);
    const n = new Notification({ title, body });
    n.on('click', () => window()?.show());
    n.show();
  };

  return service.subscribe((name, payload) => {
    if (name !== 'job') return;
    const change = payload as Events['job'];
    const before = lastStatus.get(change.job.id);
    lastStatus.set(change.job.id, change.job.status);
    if (before !== change.job.status && (change.job.status === 'done' || change.job.status === 'failed')) notify(change);
    update();
  });
}
