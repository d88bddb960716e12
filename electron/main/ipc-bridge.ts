// Wires the contract to IPC: one ipcMain.handle per contract channel (registerContract checks
// none is missing or extra), every sender checked, and events sent to the window.
import { ipcMain } from 'electron';
import type { WebContents } from 'electron';
import type { AppService } from '../core/app/app-service.ts';
import { eventChannel, registerContract } from '../core/contract.ts';
import { isTrustedSender } from './security.ts';

export function bridgeContract(service: AppService, trusted: () => WebContents | null): () => void {
  const channels = registerContract(service, (channel, run) => {
    ipcMain.handle(channel, (event, args: unknown) => {
      if (!isTrustedSender(event, trusted)) return { ok: false, error: { code: 'BAD_ARGUMENT', message: 'untrusted sender' } };
      return run(args);
    });
  });
  const unsubscribe = service.subscribe((name, payload) => {
    const contents = trusted();
    if (contents && !contents.isDestroyed()) contents.send(eventChannel(name), payload);
  });
  return () => {
    unsubscribe();
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}
