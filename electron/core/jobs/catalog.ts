// What was fetched from each server, so "only new results" is one click (--only-new).
// One append-only NDJSON file per source in the catalog folder.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface CatalogEntry {
  id: string;
  size: number;
  sha256: string;
  etag?: string | undefined;
  fetchedAt: string;
}

/** $REELPACK_HOME, else the XDG config folder. The app passes Electron's userData instead. */
export function defaultConfigDir(): string {
  if (process.env.REELPACK_HOME) return process.env.REELPACK_HOME;
  const base = process.env.XDG_CONFIG_HOME || (process.platform === 'win32' ? process.env.APPDATA : undefined) || join(homedir(), '.config');
  return join(base, 'reelpack');
}

function catalogFile(catalogDir: string, source: string): string {
  const key = createHash('sha256').update(source).digest('hex').slice(0, 24);
  return join(catalogDir, 'catalog', `${key}.ndjson`);
}

/** Ids fetched before from `source` (normalised source string). */
export async function loadCatalog(catalogDir: string, source: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let text = '';
  try {
    text = await readFile(catalogFile(catalogDir, source), 'utf8');
  } catch {
    return ids;
  }
  for (const line of text.split('\n')) {
    try {
      ids.add((JSON.parse(line) as CatalogEntry).id);
    } catch {
      // blank or torn line
    }
  }
  return ids;
}

export async function recordFetched(catalogDir: string, source: string, entries: CatalogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const file = catalogFile(catalogDir, source);
  await mkdir(join(catalogDir, 'catalog'), { recursive: true });
  await appendFile(file, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
}
