// Results API adapter: GET {base}/api/results?page=N&page_size=M, every page until `total`.
import { ReelpackError } from '../errors.ts';
import { discard, expectOk, readText } from '../download/http-client.ts';
import type { HttpClient } from '../download/http-client.ts';
import { withRetry } from '../download/with-retry.ts';
import type { ListOptions, ResultItem, SkippedItem } from './source-types.ts';

export const requestedPageSize = 100;
const maxPageBytes = 64 * 1024 * 1024;
const maxPages = 100_000;
/** The same bound as folder listings: beyond it a listing is hostile, not a batch. */
const maxItems = 1_000_000;

interface ApiPage {
  items: unknown[];
  total?: number;
  page_size?: number;
}

/** Parses one page body; throws BAD_LISTING when it is not a results page. */
export function parseApiPage(text: string, url: string): ApiPage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ReelpackError('BAD_LISTING', `results API did not return JSON: ${url}`);
  }
  if (!data || typeof data !== 'object' || !Array.isArray((data as ApiPage).items)) {
    throw new ReelpackError('BAD_LISTING', `results API answer has no "items" array: ${url}`);
  }
  const page = data as ApiPage;
  if (page.total !== undefined && (typeof page.total !== 'number' || !Number.isFinite(page.total) || page.total < 0)) {
    throw new ReelpackError('BAD_LISTING', `results API "total" is not a number (${String(page.total)}): ${url}`);
  }
  return page;
}

export function apiEndpoint(source: string): string {
  const url = new URL(source);
  if (/\/api\/results\/?$/.test(url.pathname)) {
    url.search = '';
    return url.href;
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/results`;
  url.search = '';
  return url.href;
}

function pageUrl(endpoint: string, page: number): string {
  const url = new URL(endpoint);
  url.searchParams.set('page', String(page));
  url.searchParams.set('page_size', String(requestedPageSize));
  return url.href;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** A listed SHA-256 as 64 lower-case hex digits ("sha256:" / "sha-256=" prefixes and upper case accepted), else undefined. */
function sha256Of(value: unknown): string | undefined {
  const text = str(value)?.trim().toLowerCase().replace(/^sha-?256[:=]/, '');
  return text && /^[0-9a-f]{64}$/.test(text) ? text : undefined;
}

/** The last path segment of a URL, %-decoded when it decodes (a malformed escape stays as it is). */
export function nameFromUrl(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop() ?? url.hostname;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** Turns a raw API item into a ResultItem, or a reason it cannot be downloaded. */
export function apiItem(raw: unknown, endpoint: string): ResultItem | SkippedItem {
  if (!raw || typeof raw !== 'object') return { name: String(raw), reason: 'not an object' };
  const r = raw as Record<string, unknown>;
  const urlText = str(r.url);
  // One malformed item is skipped with its reason; it never fails the listing.
  let url: URL | undefined;
  try {
    url = urlText === undefined ? undefined : new URL(urlText, endpoint);
  } catch {
    url = undefined;
  }
  const name = str(r.name) ?? (url ? nameFromUrl(url) : urlText);
  if (!name) return { name: str(r.id) ?? '(unnamed)', reason: 'no name or url' };
  const status = str(r.status) ?? 'completed';
  if (status !== 'completed') return { name, reason: `status is "${status}"` };
  if (!urlText) return { name, reason: 'no url' };
  if (!url) return { name, reason: `bad url "${urlText}"` };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { name, reason: `not an http(s) url: ${url.protocol}` };
  const size = typeof r.size === 'number' && Number.isSafeInteger(r.size) && r.size >= 0 ? r.size : undefined;
  const sha = sha256Of(r.sha256);
  return {
    id: str(r.id) ?? url.href,
    name,
    url: url.href,
    size,
    sha256: sha,
    createdAt: str(r.created_at),
    params: r.params,
  };
}

/** Reads every page. `firstPage` is the already-fetched page 1 from detection, if any. */
export async function listResultsApi(
  source: string,
  http: HttpClient,
  options: { signal?: AbortSignal | undefined; firstPage?: ApiPage | undefined; onProgress?: ListOptions['onProgress'] },
): Promise<{ items: ResultItem[]; skipped: SkippedItem[]; warnings: string[] }> {
  const endpoint = apiEndpoint(source);
  const items: ResultItem[] = [];
  const skipped: SkippedItem[] = [];
  const warnings: string[] = [];
  /** id → URL path of every result kept: a result seen again on a later page has both the same. */
  const seen = new Map<string, string>();
  let seenRaw = 0;
  let total: number | undefined;
  for (let page = 1; page <= maxPages; page++) {
    const data = page === 1 && options.firstPage ? options.firstPage : await fetchPage(endpoint, page, http, options.signal);
    const before = seen.size + skipped.length;
    for (const raw of data.items) {
      const item = apiItem(raw, endpoint);
      if (!('url' in item)) {
        skipped.push(item);
        continue;
      }
      // A result inserted while we page can shift another onto the next page twice: same id, same
      // file. The URL's path says which file: its query may be a signature that changes per listing.
      const path = new URL(item.url).pathname;
      const pathOfId = seen.get(item.id);
      if (pathOfId === path) continue;
      // The same id on another file (a task with several outputs): a file of its own, never
      // dropped, under an id that stays the same from one listing to the next.
      if (pathOfId !== undefined) item.id = `${item.id}|${path}`;
      if (seen.has(item.id)) continue;
      seen.set(item.id, path);
      items.push(item);
      const listedSha = (raw as { sha256?: unknown }).sha256;
      if (item.sha256 === undefined && listedSha !== undefined && listedSha !== null && listedSha !== '') {
        warnings.push(`${item.name}: the listed sha256 ${JSON.stringify(listedSha).slice(0, 80)} is not a SHA-256; the file is fetched without that check (its own SHA-256 is still recorded)`);
      }
      if (items.length > maxItems) throw new ReelpackError('BAD_LISTING', `results API lists more than ${maxItems} results: ${endpoint}`);
    }
    // A server that ignores `page` sends the same page forever: stop when nothing is new.
    if (page > 1 && seen.size + skipped.length === before) break;
    seenRaw += data.items.length;
    total = data.total;
    options.onProgress?.({ found: seenRaw, total });
    if (data.items.length === 0 || total === undefined || seenRaw >= total) break;
  }
  if (total !== undefined && seenRaw < total) {
    warnings.push(`the server reports ${total} results but its pages listed ${seenRaw}: ${total - seenRaw} are missing from the listing`);
  }
  return { items, skipped, warnings };
}

async function fetchPage(endpoint: string, page: number, http: HttpClient, signal?: AbortSignal): Promise<ApiPage> {
  const url = pageUrl(endpoint, page);
  return withRetry(async () => {
    const res = await http.send(url, { headers: { accept: 'application/json' }, signal });
    expectOk(res);
    return parseApiPage(await readText(res, maxPageBytes), url);
  }, { retries: 4, signal });
}

export async function probeResultsApi(source: string, http: HttpClient, signal?: AbortSignal): Promise<ApiPage | undefined> {
  const url = pageUrl(apiEndpoint(source), 1);
  try {
    const res = await http.send(url, { headers: { accept: 'application/json' }, signal });
    if (res.statusCode !== 200 || !(res.headers['content-type'] ?? '').includes('json')) {
      discard(res);
      return undefined;
    }
    return parseApiPage(await readText(res, maxPageBytes), url);
  } catch (error) {
    if ((error as ReelpackError).code === 'CANCELLED') throw error;
    return undefined;
  }
}
