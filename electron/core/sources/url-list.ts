// URL lists: a text file (one URL a line, `#` comments) or JSON (an array of URLs or of
// {url, name?, size?, sha256?} objects, or {files: [...]}), local or remote. A URL that
// answers with a file (a video, an archive…) instead of a listing is a list of one.
import { ReelpackError } from '../errors.ts';
import { apiItem, nameFromUrl } from './results-api.ts';
import type { ResultItem, SkippedItem } from './source-types.ts';

/** The file name a `Content-Disposition` header gives (RFC 6266: `filename*` wins), if any. */
export function nameFromContentDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*([\w!#$&+.^`|~-]+)'[^']*'([^;]+)/i.exec(header);
  if (extended) {
    try {
      // Only UTF-8 is decoded; an ISO-8859-1 name falls back to `filename`.
      if (extended[1]!.toLowerCase() === 'utf-8') return decodeURIComponent(extended[2]!.trim());
    } catch {
      // malformed percent-encoding: fall back to `filename`
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  const name = plain ? (plain[1]?.replace(/\\(.)/g, '$1') ?? plain[2]) : undefined;
  return name?.trim() || undefined;
}

/**
 * What a response's Content-Type says it is: `file` for media and archives (video/mp4,
 * application/zip…), `listing` for text, HTML, JSON or XML, and `sniff` when it could be either:
 * no type, `application/octet-stream` or `text/plain` (an nginx without `mime.types` serves
 * videos as text/plain). A sniffed body with a NUL byte near its start is a file.
 */
export function responseKind(contentType: string): 'file' | 'listing' | 'sniff' {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/octet-stream' || type === 'text/plain') return 'sniff';
  return /^text\/|[/+](json|x-ndjson|xml|html)$/.test(type) ? 'listing' : 'file';
}

/** The one result of a source URL that is itself a file. `url` stays the one given (redirects are followed again at download time). */
export function singleFileItem(url: string, finalUrl: string, headers: Record<string, string | undefined>): ResultItem {
  const length = Number(headers['content-length']);
  const encoded = headers['content-encoding'] !== undefined && headers['content-encoding'] !== 'identity';
  return {
    id: url,
    name: nameFromContentDisposition(headers['content-disposition']) ?? nameFromUrl(new URL(finalUrl)),
    url,
    size: Number.isSafeInteger(length) && length >= 0 && !encoded ? length : undefined,
  };
}

/** Parses a URL list body. `base` resolves relative URLs (the list's own URL, or a file: URL). */
export function parseUrlList(text: string, base: string): { items: ResultItem[]; skipped: SkippedItem[] } {
  const items: ResultItem[] = [];
  const skipped: SkippedItem[] = [];
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (error) {
      throw new ReelpackError('BAD_LISTING', `URL list is not valid JSON (${(error as Error).message}): ${base}`);
    }
    const list = Array.isArray(data) ? data : (data as { files?: unknown; items?: unknown }).files ?? (data as { items?: unknown }).items;
    if (!Array.isArray(list)) throw new ReelpackError('BAD_LISTING', `JSON URL list must be an array or have a "files" array: ${base}`);
    for (const raw of list) {
      const entry = typeof raw === 'string' ? { url: raw } : raw;
      const item = apiItem(entry, base);
      if ('url' in item) items.push(item);
      else skipped.push(item);
    }
    return { items, skipped };
  }
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    let url: URL;
    try {
      url = new URL(line, base);
    } catch {
      skipped.push({ name: line.slice(0, 200), reason: `line ${index + 1}: not a URL` });
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      skipped.push({ name: line.slice(0, 200), reason: `line ${index + 1}: not an http(s) URL` });
      continue;
    }
    items.push({ id: url.href, name: nameFromUrl(url), url: url.href });
  }
  if (items.length === 0 && skipped.length > 0 && skipped.length === text.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#')).length) {
    throw new ReelpackError('BAD_LISTING', `no line of the URL list is an http(s) URL: ${base}`);
  }
  // Several URLs can end in the same file name; names are made unique later (safe-path.ts).
  const seen = new Set<string>();
  return { items: items.filter((i) => (seen.has(i.url) ? false : (seen.add(i.url), true))), skipped };
}
