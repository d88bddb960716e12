// Lists every result of a source: detects its kind (or takes --kind) and hands off to the adapter.
import { open, readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReelpackError } from '../errors.ts';
import { HttpClient, decodeText, discard, expectOk, httpError, readText, bearerAuth } from '../download/http-client.ts';
import { withRetry } from '../download/with-retry.ts';
import { listHttpIndex, parseIndexBody, parseJsonIndex } from './http-index.ts';
import { listLocalFolder } from './local-folder.ts';
import { listResultsApi, probeResultsApi } from './results-api.ts';
import type { ListOptions, Listing, ResultItem, SkippedItem, SourceKind } from './source-types.ts';
import { parseUrlList, responseKind, singleFileItem } from './url-list.ts';

const maxListBytes = 64 * 1024 * 1024;

export function isHttpSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

// "127.0.0.1:8765", "localhost:8765/api", "[::1]:8765", "192.168.1.20": a server typed
// without its scheme (the most common way to type one), never a local path.
const bareHost = /^(localhost|\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]|[a-z0-9-]+(\.[a-z0-9-]+)*:\d{1,5})(:\d{1,5})?(\/.*)?$/i;

/** Normalises what the user typed: an http(s) URL (http:// added to a bare host), or an absolute local path. */
export function normalizeSource(source: string): string {
  let trimmed = source.trim();
  if (trimmed === '') throw new ReelpackError('USAGE', 'no source given: pass a server URL or a local path');
  if (bareHost.test(trimmed)) trimmed = `http://${trimmed}`;
  if (isHttpSource(trimmed)) {
    try {
      return new URL(trimmed).href;
    } catch {
      throw new ReelpackError('USAGE', `not a valid URL: ${trimmed}`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new ReelpackError('USAGE', `unsupported URL scheme (use http or https): ${trimmed}`);
  }
  return resolve(trimmed);
}

export async function listSource(source: string, options: ListOptions, http?: HttpClient): Promise<Listing> {
  const normalized = normalizeSource(source);
  const ownClient = !http;
  const client = http ?? new HttpClient({ auth: bearerAuth(options.token, normalized), stallTimeoutMs: 30_000 });
  try {
    const { kind, items, skipped, warnings } = isHttpSource(normalized)
      ? await listHttp(normalized, options, client)
      : await listLocal(normalized, options);
    if (items.length === 0) {
      const why = skipped.length > 0 ? ` (${skipped.length} skipped, e.g. ${skipped[0]!.name}: ${skipped[0]!.reason})` : '';
      throw new ReelpackError('EMPTY_LISTING', `no downloadable files found at ${normalized}${why}`);
    }
    return { source: normalized, kind, items, skipped, warnings };
  } catch (error) {
    // Whatever the abort broke (a request, a retry's wait) is the stop the caller asked for.
    if (options.signal?.aborted) throw new ReelpackError('CANCELLED', `listing stopped: ${normalized}`);
    throw error;
  } finally {
    if (ownClient) await client.close();
  }
}

type Found = { kind: SourceKind; items: ResultItem[]; skipped: SkippedItem[]; warnings?: string[] | undefined };

async function listLocal(path: string, options: ListOptions): Promise<Found> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new ReelpackError('SOURCE_UNUSABLE', `no such file or folder: ${path}`);
  }
  if (info.isDirectory()) {
    if (options.kind && options.kind !== 'folder') throw new ReelpackError('USAGE', `--kind ${options.kind} does not fit a local folder: ${path}`);
    return { kind: 'folder', ...(await listLocalFolder(path, options.depth, options)) };
  }
  const listExtension = /\.(txt|lst|list|urls|json|ndjson|csv|tsv)$/i.test(path);
  // A pipe (`reelpack fetch <(grep mp4 urls.txt)`) is a URL list: looking at its first bytes
  // would consume them.
  const regular = info.isFile();
  if (options.kind === 'folder' && !regular) throw new ReelpackError('USAGE', `not a file or folder: ${path}`);
  if (options.kind === 'folder' || (options.kind === undefined && regular && !listExtension && (await looksBinary(path)))) {
    // A video (or any binary file) given directly: a folder of one, read in place.
    const name = basename(path);
    return { kind: 'folder', items: [{ id: name, name, url: path, size: info.size, createdAt: info.mtime.toISOString() }], skipped: [] };
  }
  if (options.kind && options.kind !== 'list') throw new ReelpackError('USAGE', `--kind ${options.kind} does not fit a local file (a URL list): ${path}`);
  if (info.size > maxListBytes) throw new ReelpackError('BAD_LISTING', `URL list is larger than 64 MiB: ${path}`);
  return { kind: 'list', ...parseUrlList(decodeText(await readFile(path)), pathToFileURL(path).href) };
}


/** A NUL byte in the first 4 KiB: not a listing or URL list (MP4, MOV, ZIP… all have one there). */
function isBinary(head: Buffer): boolean {
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return false; // UTF-16 text
  return head.subarray(0, 4096).includes(0);
}

async function looksBinary(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return isBinary(head.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

/**
 * What an error status from the source means for the job: 401/403 is ACCESS_DENIED, another
 * permanent status (404…) makes the source unusable; transient ones (5xx, 408, 429) stay as they
 * are, to be retried.
 */
function sourceStatusError(error: unknown, options: ListOptions, notWhat: string): unknown {
  const e = error as ReelpackError;
  if (e.code !== 'HTTP_STATUS') return error;
  if (e.statusCode === 401 || e.statusCode === 403) {
    const why = options.token ? 'the server refused the access token given' : 'the server asks for an access token';
    return new ReelpackError('ACCESS_DENIED', `${e.message}: ${why}`, { statusCode: e.statusCode });
  }
  if (e.statusCode !== undefined && e.statusCode < 500 && e.statusCode !== 429 && e.statusCode !== 408) {
    return new ReelpackError('SOURCE_UNUSABLE', `${e.message}: ${notWhat}`, { statusCode: e.statusCode });
  }
  return error;
}

async function listHttp(url: string, options: ListOptions, http: HttpClient): Promise<Found> {
  const { kind, signal } = options;
  if (kind === 'folder') throw new ReelpackError('USAGE', `--kind folder needs a local path, not a URL: ${url}`);
  if (kind === 'api') {
    try {
      return { kind, ...(await listResultsApi(url, http, { signal, onProgress: options.onProgress })) };
    } catch (error) {
      throw sourceStatusError(error, options, 'not a results API');
    }
  }
  if (kind === undefined) {
    const firstPage = await probeResultsApi(url, http, signal);
    if (firstPage) return { kind: 'api', ...(await listResultsApi(url, http, { signal, firstPage, onProgress: options.onProgress })) };
  }
  const answer = await withRetry<{ file: ResultItem } | { text: string; contentType: string; finalUrl: string }>(async () => {
    const res = await http.send(url, { headers: { accept: 'application/json;q=0.9, text/html;q=0.8, */*;q=0.1' }, signal });
    try {
      expectOk(res);
    } catch (error) {
      throw sourceStatusError(error, options, 'not a results API, folder listing or URL list');
    }
    const contentType = res.headers['content-type'] ?? '';
    // With --kind the body is read as that kind, whatever it is. A body typed HTML or JSON
    // is read as such, NUL bytes and all (hostile listings have them).
    const typed = kind === undefined ? responseKind(contentType) : 'listing';
    if (typed === 'file') {
      discard(res); // the download fetches it; listing must not
      return { file: singleFileItem(url, res.url, res.headers) };
    }
    const text = await readText(res, maxListBytes, (head) => typed === 'sniff' && isBinary(head));
    if (text === null) return { file: singleFileItem(url, res.url, res.headers) };
    return { text, contentType, finalUrl: res.url };
  }, { retries: 3, signal }).catch((error: unknown) => {
    const e = httpError(error, url);
    // Said once, and as what happened: refused or unreachable is "cannot reach"; a server that
    // took the connection and then sent nothing did answer the connect, not the request.
    if (e.code === 'STALLED') throw new ReelpackError('SOURCE_UNUSABLE', `the server took the connection but sent no answer: ${url}`);
    if (e.code === 'NETWORK') throw new ReelpackError('SOURCE_UNUSABLE', e.message.startsWith('cannot reach') ? e.message : `cannot reach ${url}: ${e.message}`);
    throw e;
  });
  if ('file' in answer) return { kind: 'list', items: [answer.file], skipped: [] };
  const { text, contentType, finalUrl } = answer;
  if (kind === 'list') return { kind, ...parseUrlList(text, finalUrl) };
  if (kind === 'index') return { kind, ...(await listHttpIndex(finalUrl, http, { depth: options.depth, signal, onProgress: options.onProgress, first: parseIndexBody(text, contentType, finalUrl) })) };
  // Detect: a JSON folder listing, an HTML folder listing, or a URL list (text or JSON).
  const trimmed = text.trimStart();
  if (contentType.includes('json') || trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ReelpackError('BAD_LISTING', `${finalUrl} returned malformed JSON`);
    }
    const entries = parseJsonIndex(data);
    if (entries) return { kind: 'index', ...(await listHttpIndex(finalUrl, http, { depth: options.depth, signal, onProgress: options.onProgress, first: entries })) };
    return { kind: 'list', ...parseUrlList(text, finalUrl) };
  }
  if (contentType.includes('html') || /^<(!doctype|html)/i.test(trimmed)) {
    return { kind: 'index', ...(await listHttpIndex(finalUrl, http, { depth: options.depth, signal, onProgress: options.onProgress, first: parseIndexBody(text, contentType, finalUrl) })) };
  }
  return { kind: 'list', ...parseUrlList(text, finalUrl) };
}
