// Opening a folder for the browser host: the desktop's own opener, detached. Only job folders
// reach here (app-service checks), never a server-provided URL.
import { spawn } from 'node:child_process';
import path from 'node:path';

function opener(): { command: string; args: (target: string, reveal: boolean) => string[] } {
  if (process.platform === 'darwin') return { command: 'open', args: (t, reveal) => (reveal ? ['-R', t] : [t]) };
  if (process.platform === 'win32') return { command: 'explorer.exe', args: (t, reveal) => (reveal ? [`/select,${t}`] : [t]) };
  return { command: 'xdg-open', args: (t, reveal) => [reveal ? path.dirname(t) : t] };
}

export function openWithDesktop(target: string, reveal = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const { command, args } = opener();
    const child = spawn(command, args(target, reveal), { detached: true, stdio: 'ignore' });
    child.once('error', (e) => reject(Object.assign(new Error(`cannot open ${target}: ${e.message}`), { code: 'UNSUPPORTED' })));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
