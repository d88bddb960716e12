// Hardening for every web contents: no navigation away from the app, no new windows, no
// webviews, no permissions; and the check every IPC call goes through.
import { app, session } from 'electron';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import { appOrigin } from './app-protocol.ts';

export function isAppUrl(url: string): boolean {
  try {
    return new URL(url).origin === appOrigin;
  } catch {
    return false;
  }
}

export function hardenSessions(): void {
  // Deny every permission (camera, notifications from the page, geolocation, clipboard-read…).
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.setDevicePermissionHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    // Links never open: server-provided URLs must not reach shell.openExternal.
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

/** Only our own window, showing our own page, may call the contract. */
export function isTrustedSender(event: IpcMainInvokeEvent, trusted: () => WebContents | null): boolean {
  const frame = event.senderFrame;
  return event.sender === trusted() && frame !== null && frame.parent === null && isAppUrl(frame.url);
}
