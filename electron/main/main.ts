// Electron main: one window on app://reelpack, the contract over IPC, the engine in this
// process and the zip worker in a utilityProcess. Everything else lives in core/ (plain Node).
import '../core/small-heap.ts'; // first: the engine runs in this process too
import { app, BrowserWindow, dialog, safeStorage, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppService } from '../core/app/app-service.ts';
import type { AppService } from '../core/app/app-service.ts';
import { appEntryUrl, registerAppScheme, serveAppProtocol } from './app-protocol.ts';
import { integrateWithDesktop } from './desktop-integration.ts';
import { bridgeContract } from './ipc-bridge.ts';
import { hardenSessions } from './security.ts';
import { loadWindowState, trackWindowState } from './window-state.ts';
import { utilityZipWorker } from './zip-worker-process.ts';

// Built layout (build/build-electron.ts): dist/app/{main.mjs, preload.cjs, zip-worker.mjs}, dist/ui/.
const here = path.dirname(fileURLToPath(import.meta.url));
const uiDir = path.join(here, '..', 'ui');

registerAppScheme();
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  void start();
}

let mainWindow: BrowserWindow | null = null;

async function start(): Promise<void> {
  await app.whenReady();
  hardenSessions();
  serveAppProtocol(uiDir);
  const configDir = app.getPath('userData');
  const canEncrypt = await safeStorage.isAsyncEncryptionAvailable().catch(() => false);
  const service = await createAppService({
    configDir,
    version: app.getVersion(),
    systemLocale: app.getLocale(),
    platform: {
      shell: 'electron',
      chooseFolder: async (defaultPath) => {
        const options = { title: 'Reelpack', defaultPath, properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
        const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
        return result.canceled ? null : (result.filePaths[0] ?? null);
      },
      // Only job folders and job outputs reach these (app-service checks); never a server URL.
      openPath: async (target) => {
        const error = await shell.openPath(target);
        if (error) throw Object.assign(new Error(error), { code: 'UNSUPPORTED' });
      },
      showItemInFolder: async (target) => shell.showItemInFolder(target),
      secrets: canEncrypt
        ? {
            encrypt: async (plain) => (await safeStorage.encryptStringAsync(plain)).toString('base64'),
            decrypt: async (sealed) => (await safeStorage.decryptStringAsync(Buffer.from(sealed, 'base64'))).result,
          }
        : undefined,
      spawnZipWorker: utilityZipWorker(path.join(here, 'zip-worker.mjs')),
    },
  });
  bridgeContract(service, () => mainWindow?.webContents ?? null);
  integrateWithDesktop(service, () => mainWindow, () => app.getLocale());
  guardQuit(service);
  await openWindow(configDir);

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void openWindow(configDir);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

async function openWindow(configDir: string): Promise<void> {
  const state = await loadWindowState(configDir);
  const win = new BrowserWindow({
    ...state.bounds,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Reelpack',
    backgroundColor: '#f4f5f9',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  mainWindow = win;
  if (state.maximized) win.maximize();
  trackWindowState(win, configDir);
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  await win.loadURL(appEntryUrl);
}

/** Quitting with work running asks first; either way the job stays resumable (journal). */
function guardQuit(service: AppService): void {
  let confirmed = false;
  app.on('before-quit', (event) => {
    if (confirmed) return;
    event.preventDefault();
    const running = service.activeJobs().length;
    const zh = app.getLocale().startsWith('zh');
    const answer =
      running === 0
        ? 0
        : dialog.showMessageBoxSync({
            type: 'question',
            buttons: zh ? ['退出', '继续下载'] : ['Quit', 'Keep downloading'],
            defaultId: 1,
            cancelId: 1,
            message: zh ? '仍有下载在进行。' : 'Downloads are still running.',
            detail: zh ? '退出后任务会保存，下次启动时可以继续。' : 'The job is saved and can be resumed the next time you open Reelpack.',
          });
    if (answer !== 0) return;
    confirmed = true;
    void service.close().finally(() => app.quit());
  });
}
