// What was fetched from each server, so "only new results" is one click (--only-new).
// One append-only NDJSON file per source in the catalog folder.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { apiEndpoint } from '../sources/results-api.ts';
import type { SourceKind } from '../sources/source-types.ts';

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

const loopbackNames = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * One server, one catalog, however it was typed: a results API is its endpoint whatever page or
 * path form was given (`host:8765`, `…/api/results?page=1`), and the loopback names are one
 * machine. Other sources are the normalised source as listed (a folder's path, a list's URL).
 */
export function catalogSource(source: string, kind: SourceKind): string {
  if (!/^https?:\/\//i.test(source)) return source;
  const url = new URL(kind === 'api' ? apiEndpoint(source) : source);
  if (kind === 'api') url.pathname = url.pathname.replace(/\/+$/, '');
  if (loopbackNames.has(url.hostname)) url.hostname = 'localhost';
  return url.href;
}

function catalogFile(catalogDir: string, key: string): string {
  const name = createHash('sha256').update(key).digest('hex').slice(0, 24);
  return join(catalogDir, 'catalog', `${name}.ndjson`);
}

async function readIds(file: string, into: Set<string>): Promise<void> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    try {
      into.add((JSON.parse(line) as CatalogEntry).id);
    } catch {
      // blank or torn line
    }
  }
}

/** Ids fetched before from `source` (normalised, as listed) of that kind. */
export async function loadCatalog(catalogDir: string, source: string, kind: SourceKind): Promise<Set<string>> {
  const ids = new Set<string>();
  const key = catalogSource(source, kind);
  await readIds(catalogFile(catalogDir, key), ids);
  // Catalogs written before catalogSource existed are keyed by the source as listed.
  if (key !== source) await readIds(catalogFile(catalogDir, source), ids);
  return ids;
}

export async function recordFetched(catalogDir: string, source: string, kind: SourceKind, entries: CatalogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const file = catalogFile(catalogDir, catalogSource(source, kind));
  await mkdir(join(catalogDir, 'catalog'), { recursive: true });
  await appendFile(file, entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
}
