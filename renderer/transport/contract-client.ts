// The UI's one way to the app: the preload's bridge in Electron, else the browser host's WebSocket.
import type { ContractClient, Reply } from '../../electron/core/contract.ts';
import { createWebSocketClient } from './websocket-client.ts';
import type { ConnectionWatcher } from './websocket-client.ts';

declare global {
  interface Window {
    /** Exposed by electron/preload in the desktop app. */
    reelpack?: ContractClient;
  }
}

export type AppClient = ContractClient & Partial<ConnectionWatcher>;

export function connectClient(): AppClient {
  if (window.reelpack) return window.reelpack;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWebSocketClient(`${scheme}//${location.host}/ws`);
}

/** Unwraps a reply for code paths that show the error in place. */
export async function must<T>(reply: Promise<Reply<T>>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.value;
}
