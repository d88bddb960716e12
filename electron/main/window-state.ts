// Remembers the window's size, position and maximized state in <userData>/window.json.
import type { BrowserWindow, Rectangle } from 'electron';
import { screen } from 'electron';
import path from 'node:path';
import { readJsonFile, writeJsonFile } from '../core/app/json-file.ts';

interface WindowState {
  bounds: Rectangle;
  maximized: boolean;
}

const fallback: WindowState = { bounds: { x: 0, y: 0, width: 1200, height: 800 }, maximized: false };

export async function loadWindowState(configDir: string): Promise<WindowState> {
  const state = await readJsonFile<WindowState>(path.join(configDir, 'window.json'), fallback);
  const b = state.bounds;
  // Forget positions on a display that is gone.
  const visible = screen.getAllDisplays().some((d) => b.x >= d.workArea.x - 50 && b.y >= d.workArea.y - 50 && b.x < d.workArea.x + d.workArea.width && b.y < d.workArea.y + d.workArea.height);
  return {
    bounds: { ...b, width: Math.max(900, b.width), height: Math.max(600, b.height), ...(visible ? {} : { x: undefined as never, y: undefined as never }) },
    maximized: Boolean(state.maximized),
  };
}

export function trackWindowState(win: BrowserWindow, configDir: string): void {
  let timer: NodeJS.Timeout | null = null;
  const save = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (win.isDestroyed()) return;
      void writeJsonFile(path.join(configDir, 'window.json'), { bounds: win.getNormalBounds(), maximized: win.isMaximized() });
    }, 400);
  };
  win.on('resize', save);
  win.on('move', save);
  win.on('maximize', save);
  win.on('unmaximize', save);
}
