// The one place HTTP requests are made (listings and downloads): undici with a shared
// connection pool, bearer token, bounded redirects to http(s) only, stall timeouts, and
// undici's errors mapped to ReelpackError codes.
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { ReelpackError, toReelpackError } from '../errors.ts';
import { parseRetryAfter } from './retry-policy.ts';

export const maxRedirects = 10;

export interface HttpClientOptions {
  token?: string | undefined;
  /** No bytes (headers or body) for this long fails the request as STALLED. */
  stallTimeoutMs: number;
  /** Connections per origin. */
  connections?: number;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** Final URL after redirects. */
  url: string;
}

export interface HttpRequest {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(raw)) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

const networkCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED',
]);

/** Maps a thrown undici/system error to a ReelpackError with a plain message. */
export function httpError(error: unknown, url: string): ReelpackError {
  if (error instanceof ReelpackError) return error;
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = err?.code ?? err?.cause?.code;
  if (err?.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return new ReelpackError('CANCELLED', 'cancelled', { cause: error });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new ReelpackError('STALLED', `no data from server (stalled): ${url}`, { cause: error });
  }
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new ReelpackError('SIZE_MISMATCH', `server sent a different number of bytes than it announced: ${url}`, { cause: error });
  }
  if (code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_')) {
    return new ReelpackError('BAD_RESPONSE', `malformed HTTP response (${code}): ${url}`, { cause: error });
  }
  if (code && networkCodes.has(code)) {
    return new ReelpackError('NETWORK', `network error (${code}): ${url}`, { cause: error });
  }
  const mapped = toReelpackError(error);
  if (mapped.code === 'INTERNAL') return new ReelpackError('NETWORK', `${mapped.message}: ${url}`, { cause: error });
  return mapped;
}

const closeGraceMs = 1000;

export class HttpClient {
  private readonly agent: Agent;
  private readonly options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.options = options;
    this.agent = new Agent({
      connections: options.connections ?? 16,
      keepAliveTimeout: 10_000,
      headersTimeout: options.stallTimeoutMs,
      bodyTimeout: options.stallTimeoutMs,
      connectTimeout: Math.min(options.stallTimeoutMs, 30_000),
    });
  }

  /**
   * Sends a request, following up to 10 redirects to http(s) URLs. Error statuses are
   * returned, not thrown; use `expectOk` or check `statusCode`. The caller must consume
   * or destroy `body`.
   */
  async send(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
    let current = url;
    const seen = new Set<string>();
    for (let hop = 0; ; hop++) {
      const parsed = new URL(current);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new ReelpackError('BAD_REDIRECT', `refusing to follow a redirect to a non-http URL: ${current}`);
      }
      const headers: Record<string, string> = { 'user-agent': 'Reelpack/0.1', ...req.headers };
      // The token goes only to the origin the user named, never to a redirect target elsewhere.
      if (this.options.token && parsed.origin === new URL(url).origin) headers.authorization = `Bearer ${this.options.token}`;
      let res: Dispatcher.ResponseData;
      try {
        res = await request(current, { method: req.method ?? 'GET', headers, dispatcher: this.agent, signal: req.signal });
      } catch (error) {
        throw httpError(error, current);
      }
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && location) {
        discard(res);
        const target = Array.isArray(location) ? location[0]! : location;
        let next: string;
        try {
          next = new URL(target, current).href;
        } catch {
          throw new ReelpackError('BAD_REDIRECT', `redirect to an invalid URL (${target.slice(0, 200)}) from ${current}`);
        }
        if (hop + 1 > maxRedirects || seen.has(next)) {
          throw new ReelpackError('BAD_REDIRECT', `too many redirects or a redirect loop at ${current}`);
        }
        seen.add(current);
        current = next;
        continue;
      }
      return { statusCode: res.statusCode, headers: flattenHeaders(res.headers), body: res.body, url: current };
    }
  }

  /**
   * Closes every connection. A body nobody reads any more (left behind by an error) must not
   * hold the job open until the stall timeout: after a short grace the rest is destroyed.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), closeGraceMs);
    });
    const closed = this.agent.close().then(() => false as const, () => true as const);
    const destroy = await Promise.race([closed, graceOver]);
    clearTimeout(timer);
    if (destroy) await this.agent.destroy().catch(() => {});
  }
}

/** Drops a response body we do not want; destroying it must not surface as an error. */
export function discard(res: Pick<HttpResponse, 'body'>): void {
  res.body.on('error', () => {});
  res.body.destroy();
}

/** Throws HTTP_STATUS (with Retry-After) for a non-2xx response, after discarding its body. */
export function expectOk(res: HttpResponse): void {
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  discard(res);
  throw statusError(res);
}

export function statusError(res: HttpResponse): ReelpackError {
  return new ReelpackError('HTTP_STATUS', `HTTP ${res.statusCode} from ${res.url}`, {
    statusCode: res.statusCode,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  });
}

/**
 * Reads a whole body as text, refusing bodies over `maxBytes` (an "enormous listing").
 * With `isNotText`, the first chunk is shown to it first: if it says so, the body is
 * dropped and the result is null (a file served as text/plain is not read to the end).
 */
export async function readText(res: HttpResponse, maxBytes: number): Promise<string>;
export async function readText(res: HttpResponse, maxBytes: number, isNotText: (head: Buffer) => boolean): Promise<string | null>;
export async function readText(res: HttpResponse, maxBytes: number, isNotText?: (head: Buffer) => boolean): Promise<string | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      if (total === 0 && isNotText?.(chunk as Buffer)) {
        discard(res);
        return null;
      }
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        discard(res);
        throw new ReelpackError('BAD_LISTING', `listing is larger than ${Math.round(maxBytes / 1048576)} MiB: ${res.url}`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw httpError(error, res.url);
  }
  return Buffer.concat(chunks).toString('utf8');
}
