// HTTP folder listings: nginx autoindex (HTML and JSON), Apache, Caddy browse (HTML and
// JSON), python3 -m http.server. Recurses into subfolders up to a depth.
import { ReelpackError } from '../errors.ts';
import { expectOk, readText } from '../download/http-client.ts';
import type { HttpClient } from '../download/http-client.ts';
import { withRetry } from '../download/with-retry.ts';
import type { ListOptions, ResultItem, SkippedItem } from './source-types.ts';

const maxListingBytes = 64 * 1024 * 1024;
const maxEntries = 1_000_000;

export interface IndexEntry {
  href: string;
  isDir: boolean;
  size?: number | undefined;
  modified?: string | undefined;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    }
    return entities[name.toLowerCase()] ?? whole;
  });
}

/**
 * Links from an HTML folder listing. Exact sizes are read where the format gives them in
 * bytes (nginx: `</a>  28-Nov-2026 01:23   8388608`); rounded sizes (Apache's "8.0M") and
 * listings without sizes (python http.server) leave the size to the download.
 */
export function parseHtmlIndex(html: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const match of html.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>/gi)) {
    const href = decodeEntities(match[1] ?? match[2] ?? match[3] ?? '');
    if (!href || href.startsWith('?') || href.startsWith('#') || /^(mailto|javascript|data):/i.test(href)) continue;
    const isDir = /\/$/.test(href.split(/[?#]/)[0]!);
    const start = match.index + match[0].length;
    const rest = html.slice(start, start + 400).split('\n')[0]!.replace(/^.*?<\/a>/i, '');
    const exact = isDir ? undefined : rest.match(/^\s+\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}\s+(\d+)\s*$/);
    entries.push({ href, isDir, size: exact ? Number(exact[1]) : undefined });
  }
  return entries;
}

/** nginx `autoindex_format json` or Caddy's JSON browse answer; undefined if `data` is neither. */
export function parseJsonIndex(data: unknown): IndexEntry[] | undefined {
  if (!Array.isArray(data)) return undefined;
  const entries: IndexEntry[] = [];
  for (const raw of data) {
    if (!raw || typeof raw !== 'object') return undefined;
    const r = raw as Record<string, unknown>;
    if (typeof r.name !== 'string') return undefined;
    const isDir = r.type === 'directory' || r.is_dir === true;
    if (r.type === undefined && r.is_dir === undefined) return undefined;
    if (r.type !== undefined && r.type !== 'file' && r.type !== 'directory') continue; // nginx "other" (sockets…)
    const href = typeof r.url === 'string' ? r.url : encodeURIComponent(r.name) + (isDir ? '/' : '');
    entries.push({
      href: isDir && !href.endsWith('/') ? `${href}/` : href,
      isDir,
      size: typeof r.size === 'number' && Number.isSafeInteger(r.size) && r.size >= 0 ? r.size : undefined,
      modified: typeof r.mtime === 'string' ? r.mtime : typeof r.mod_time === 'string' ? r.mod_time : undefined,
    });
  }
  return entries;
}

/** Parses a listing body of either form; throws BAD_LISTING when it is neither. */
export function parseIndexBody(text: string, contentType: string, url: string): IndexEntry[] {
  if (contentType.includes('json') || /^\s*\[/.test(text)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ReelpackError('BAD_LISTING', `folder listing is not valid JSON: ${url}`);
    }
    const entries = parseJsonIndex(data);
    if (!entries) throw new ReelpackError('BAD_LISTING', `JSON is not a folder listing: ${url}`);
    return entries;
  }
  if (!/<a\s/i.test(text)) throw new ReelpackError('BAD_LISTING', `not a folder listing (no links): ${url}`);
  return parseHtmlIndex(text);
}

async function fetchIndex(url: string, http: HttpClient, signal?: AbortSignal): Promise<IndexEntry[]> {
  return withRetry(async () => {
    const res = await http.send(url, { headers: { accept: 'application/json;q=0.9, text/html;q=0.8, */*;q=0.1' }, signal });
    expectOk(res);
    return parseIndexBody(await readText(res, maxListingBytes), res.headers['content-type'] ?? '', res.url);
  }, { retries: 4, signal });
}

/** Walks a listing and its subfolders (breadth first, `depth` levels below the root). */
export async function listHttpIndex(
  root: string,
  http: HttpClient,
  options: { depth: number; signal?: AbortSignal | undefined; first?: IndexEntry[] | undefined; onProgress?: ListOptions['onProgress'] },
): Promise<{ items: ResultItem[]; skipped: SkippedItem[] }> {
  const rootUrl = new URL(root);
  if (!rootUrl.pathname.endsWith('/')) rootUrl.pathname += '/';
  const items: ResultItem[] = [];
  const skipped: SkippedItem[] = [];
  const visited = new Set<string>([rootUrl.href]);
  const seenFiles = new Set<string>(); // Apache links each file twice (icon and name)
  let level: Array<{ url: string; entries?: IndexEntry[] | undefined }> = [{ url: rootUrl.href, entries: options.first }];
  for (let depth = 0; level.length > 0; depth++) {
    const next: typeof level = [];
    for (const folder of level) {
      const entries = folder.entries ?? (await fetchIndex(folder.url, http, options.signal));
      for (const entry of entries) {
        let target: URL;
        try {
          target = new URL(entry.href, folder.url);
        } catch {
          continue;
        }
        target.hash = '';
        // Only what lies below the listing's folder: no parent links, other hosts or sort links.
        if (target.origin !== rootUrl.origin || !target.pathname.startsWith(new URL(folder.url).pathname)) continue;
        if (target.href === folder.url || target.search) continue;
        const relative = decodePath(target.pathname.slice(rootUrl.pathname.length));
        if (entry.isDir) {
          if (visited.has(target.href)) continue;
          visited.add(target.href);
          if (depth < options.depth) next.push({ url: target.href });
          else skipped.push({ name: relative, reason: `folder deeper than --depth ${options.depth}` });
          continue;
        }
        if (seenFiles.has(target.href)) continue;
        seenFiles.add(target.href);
        if (items.length >= maxEntries) throw new ReelpackError('BAD_LISTING', `listing has more than ${maxEntries} files: ${root}`);
        items.push({ id: target.href, name: relative, url: target.href, size: entry.size, createdAt: entry.modified });
      }
      options.onProgress?.({ found: items.length });
    }
    level = next;
  }
  return { items, skipped };
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
