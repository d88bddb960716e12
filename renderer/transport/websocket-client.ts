// The contract over the browser host's WebSocket. Same shape as the Electron preload's client;
// it reconnects after a drop and never throws: failures come back as {ok:false,error}.
import type { ContractClient, EventName, Events, Reply } from '../../electron/core/contract.ts';

type Pending = (reply: Reply<unknown>) => void;

export interface ConnectionWatcher {
  /**
   * Called with false when the socket drops and true when it is back. After a drop, `refused`
   * follows once known: true when the host answers but no longer accepts this page (restarted
   * with a new token on the same port); undefined means not known yet.
   */
  onConnectionChange(listener: (connected: boolean, refused?: boolean) => void): () => void;
}

/** Whether the host is up but refuses this page's cookie: only a new address helps then. */
async function hostRefusesPage(): Promise<boolean> {
  try {
    return (await fetch('/api/contract', { cache: 'no-store' })).status === 403;
  } catch {
    return false; // not answering at all: down, or on another port
  }
}

export function createWebSocketClient(url: string): ContractClient & ConnectionWatcher {
  let socket: WebSocket | null = null;
  let nextId = 1;
  let retryMs = 500;
  const pending = new Map<number, Pending>();
  const outbox: string[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const connectionListeners = new Set<(connected: boolean, refused?: boolean) => void>();
  let everOpened = false;

  function open(): void {
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      if (everOpened) for (const l of connectionListeners) l(true);
      everOpened = true;
      for (const text of outbox.splice(0)) ws.send(text);
    };
    ws.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as { id?: number; reply?: Reply<unknown>; event?: string; payload?: unknown };
      if (data.event) {
        for (const l of listeners.get(data.event) ?? []) l(data.payload);
      } else if (typeof data.id === 'number') {
        pending.get(data.id)?.(data.reply ?? { ok: false, error: { code: 'INTERNAL', message: 'empty reply' } });
        pending.delete(data.id);
      }
    };
    ws.onclose = () => {
      for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'NETWORK', message: 'the connection to Reelpack was lost' } });
      pending.clear();
      for (const l of connectionListeners) l(false);
      void hostRefusesPage().then((refused) => {
        if (socket === ws) for (const l of connectionListeners) l(false, refused); // not reconnected since
      });
      setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }
  open();

  function call(command: string, args: unknown): Promise<Reply<unknown>> {
    return new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      const text = JSON.stringify({ id, command, args: args ?? {} });
      if (socket?.readyState === WebSocket.OPEN) socket.send(text);
      else outbox.push(text);
    });
  }

  const extras = {
    on<K extends EventName>(name: K, listener: (payload: Events[K]) => void): () => void {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set);
      const l = listener as (payload: unknown) => void;
      set.add(l);
      return () => set.delete(l);
    },
    onConnectionChange(listener: (connected: boolean, refused?: boolean) => void): () => void {
      connectionListeners.add(listener);
      return () => connectionListeners.delete(listener);
    },
  };
  // Every other property is a command; the host rejects names outside the contract.
  return new Proxy(extras, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof typeof target];
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (args: unknown) => call(prop, args);
    },
  }) as unknown as ContractClient & ConnectionWatcher;
}
