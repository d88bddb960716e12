// The sandboxed preload: exposes exactly the contract (createContractClient walks the runtime
// channel list) and nothing else. Bundled to one CommonJS file (build/build-electron.ts),
// because a sandboxed preload cannot load local modules.
import { contextBridge, ipcRenderer } from 'electron';
import { createContractClient } from '../core/contract.ts';

const client = createContractClient(
  (channel, args) => ipcRenderer.invoke(channel, args),
  (channel, listener) => {
    // Hand the page the payload only, never the IpcRendererEvent (it exposes `sender`).
    const handler = (_event: Electron.IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
);

contextBridge.exposeInMainWorld('reelpack', client);
