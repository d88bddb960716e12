// The one place HTTP requests are made (listings and downloads): undici with a shared
// connection pool (file bodies over plain http: fast-http.ts), bearer token, bounded
// redirects to http(s) only, stall timeouts, and errors mapped to ReelpackError codes.
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { connectError, ReelpackError, toReelpackError } from '../errors.ts';
import { noteConsumedBytes } from '../gc-pacer.ts';
import { parseRetryAfter } from './retry-policy.ts';
import { FastHttpPool } from './fast-http.ts';
import type { BodyStream, ChunkHandler } from './fast-http.ts';

export type { BodyStream, ChunkHandler };

export const maxRedirects = 10;

export interface HttpClientOptions {
  /**
   * A bearer token and the one origin it is sent to: the source's (see `bearerAuth`). Files a
   * listing names on other hosts (a CDN, object storage) never see it, nor do redirects there.
   */
  auth?: { token: string; origin: string } | undefined;
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

/** An answer to `download`: its body is pushed to a handler (see BodyStream). */
export interface DownloadResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: BodyStream;
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
    return connectError(code, url, error);
  }
  // https to a port that speaks plain http: OpenSSL's "wrong version number", not a dump of it.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || /wrong version number|packet length too long/i.test(err?.message ?? '')) {
    return new ReelpackError('NETWORK', `the server does not speak https there (try http://): ${url}`, { cause: error });
  }
  const mapped = toReelpackError(error);
  if (mapped.code === 'INTERNAL') return new ReelpackError('NETWORK', `${mapped.message}: ${url}`, { cause: error });
  return mapped;
}

/** The `auth` option for a token given with `source`: none for a local source or no token. */
export function bearerAuth(token: string | undefined, source: string): HttpClientOptions['auth'] {
  if (!token || !/^https?:\/\//i.test(source.trim())) return undefined;
  try {
    return { token, origin: new URL(source.trim()).origin };
  } catch {
    return undefined; // not a URL: listing it fails with a clear USAGE error
  }
}

const closeGraceMs = 1000;

export class HttpClient {
  private readonly agent: Agent;
  private readonly fast: FastHttpPool;
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
    this.fast = new FastHttpPool({
      stallTimeoutMs: options.stallTimeoutMs,
      connectTimeoutMs: Math.min(options.stallTimeoutMs, 30_000),
      maxIdlePerOrigin: options.connections ?? 16,
    });
  }

  /**
   * Sends a request, following up to 10 redirects to http(s) URLs. Error statuses are
   * returned, not thrown; use `expectOk` or check `statusCode`. The caller must consume
   * or destroy `body`. Listings and probes go this way (undici).
   */
  send(url: string, req: HttpRequest = {}): Promise<HttpResponse> {
    return this.follow(url, req, async (current, headers) => {
      const res = await request(current, { method: req.method ?? 'GET', headers, dispatcher: this.agent, signal: req.signal });
      return { statusCode: res.statusCode, headers: flattenHeaders(res.headers), body: res.body, url: current, drop: () => discard(res) };
    });
  }

  /**
   * A GET for a file's bytes, redirects followed as by `send`. Plain http goes over
   * fast-http.ts (no buffer per socket read), https over undici.
   * The caller must consume or stop `body`.
   */
  download(url: string, req: Omit<HttpRequest, 'method'> = {}): Promise<DownloadResponse> {
    return this.follow(url, req, async (current, headers) => {
      const parsed = new URL(current);
      if (parsed.protocol === 'http:') {
        const res = await this.fast.get(parsed, headers, req.signal);
        return { ...res, url: current, drop: () => res.body.stop() };
      }
      const res = await request(current, { method: 'GET', headers, dispatcher: this.agent, signal: req.signal });
      const body = readableBody(res.body, current);
      return { statusCode: res.statusCode, headers: flattenHeaders(res.headers), body, url: current, drop: () => body.stop() };
    });
  }

  /** The redirect loop both kinds of request share: bounded, http(s) only, the token kept to the source's origin. */
  private async follow<T extends { statusCode: number; headers: Record<string, string | undefined>; url: string; drop: () => void }>(
    url: string, req: HttpRequest, hop: (current: string, headers: Record<string, string>) => Promise<T>,
  ): Promise<Omit<T, 'drop'>> {
    let current = url;
    const seen = new Set<string>();
    for (let hops = 0; ; hops++) {
      const parsed = new URL(current);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new ReelpackError('BAD_REDIRECT', `refusing to follow a redirect to a non-http URL: ${current}`);
      }
      const headers: Record<string, string> = { 'user-agent': 'Reelpack/0.1', ...req.headers };
      // The token goes only to the source's origin: not to a file listed elsewhere, not to a redirect target elsewhere.
      if (this.options.auth && parsed.origin === this.options.auth.origin) headers.authorization = `Bearer ${this.options.auth.token}`;
      let res: T;
      try {
        res = await hop(current, headers);
      } catch (error) {
        throw httpError(error, current);
      }
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && location) {
        res.drop();
        let next: string;
        try {
          next = new URL(location, current).href;
        } catch {
          throw new ReelpackError('BAD_REDIRECT', `redirect to an invalid URL (${location.slice(0, 200)}) from ${current}`);
        }
        if (hops + 1 > maxRedirects || seen.has(next)) {
          throw new ReelpackError('BAD_REDIRECT', `too many redirects or a redirect loop at ${current}`);
        }
        seen.add(current);
        current = next;
        continue;
      }
      const { drop: _drop, ...response } = res;
      return response;
    }
  }

  /**
   * Closes every connection. A body nobody reads any more (left behind by an error) must not
   * hold the job open until the stall timeout: after a short grace the rest is destroyed.
   */
  async close(): Promise<void> {
    const fastClosed = this.fast.close(closeGraceMs);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), closeGraceMs);
    });
    const closed = this.agent.close().then(() => false as const, () => true as const);
    const destroy = await Promise.race([closed, graceOver]);
    clearTimeout(timer);
    if (destroy) await this.agent.destroy().catch(() => {});
    await fastClosed;
  }
}

/** Drops a response body we do not want; destroying it must not surface as an error. */
export function discard(res: Pick<HttpResponse, 'body'>): void {
  res.body.on('error', () => {});
  res.body.destroy();
}

/**
 * An undici body as a BodyStream: 'data' events, not for-await (an async iterator drops
 * chunks already received when the socket then fails). A paused stream can still hand over a
 * chunk already in flight: it is queued behind the wait.
 */
function readableBody(body: Dispatcher.ResponseData['body'], url: string): BodyStream {
  let stopped = false;
  let finish: (() => void) | null = null;
  return {
    consume(onChunk: ChunkHandler): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        let waiting: Promise<void> | null = null;
        let settled = false;
        const end = () => {
          if (settled) return;
          settled = true;
          void (waiting ?? Promise.resolve()).then(resolve, reject);
        };
        const fail = (error: unknown) => {
          if (settled) return;
          settled = true;
          discard({ body });
          reject(error);
        };
        finish = end;
        body.on('data', (data: Buffer) => {
          if (settled || stopped) return;
          noteConsumedBytes(data.length);
          let wait: Promise<void> | undefined;
          try {
            wait = waiting ? waiting.then(() => onChunk(data)) : onChunk(data);
          } catch (error) {
            return fail(error);
          }
          if (wait) {
            body.pause();
            const current: Promise<void> = wait.then(() => {
              if (waiting !== current) return;
              waiting = null;
              if (!settled) body.resume();
            });
            current.catch(fail);
            waiting = current;
          }
        });
        body.once('end', end);
        body.once('error', (error) => (stopped ? end() : fail(error)));
        body.once('close', () => {
          if (stopped) end();
          else if (!body.readableEnded) fail(new ReelpackError('NETWORK', `connection closed early: ${url}`));
        });
        if (body.errored) fail(body.errored);
        else if (body.destroyed && !body.readableEnded) fail(new ReelpackError('NETWORK', `connection closed early: ${url}`));
      });
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      discard({ body });
      queueMicrotask(() => finish?.()); // after the handler that called stop() registered its wait
    },
  };
}

/** Throws HTTP_STATUS (with Retry-After) for a non-2xx response, after discarding its body. */
export function expectOk(res: HttpResponse): void {
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  discard(res);
  throw statusError(res);
}

export function statusError(res: Pick<HttpResponse, 'statusCode' | 'headers' | 'url'>): ReelpackError {
  return new ReelpackError('HTTP_STATUS', `HTTP ${res.statusCode} from ${res.url}`, {
    statusCode: res.statusCode,
    retryAfterMs: parseRetryAfter(res.headers['retry-after']),
  });
}

/**
 * How long one listing response may take to arrive in full. The stall timeout catches a server
 * that goes silent; this catches one that trickles (a byte a second would take years to reach
 * the size cap).
 */
export const listingDeadlineMs = 5 * 60_000;

/**
 * A listing's or list file's text: UTF-8, or UTF-16 when it starts with its byte order mark
 * (what Windows PowerShell 5.1's `>` and Notepad's "Unicode" write); a UTF-8 BOM is dropped.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  return bytes.toString('utf8').replace(/^\ufeff/, '');
}

/**
 * Reads a whole body as text, refusing bodies over `maxBytes` (an "enormous listing").
 * With `isNotText`, the first chunk is shown to it first: if it says so, the body is
 * dropped and the result is null (a file served as text/plain is not read to the end).
 * A body still arriving after `deadlineMs` fails as BAD_LISTING.
 */
export async function readText(res: HttpResponse, maxBytes: number, isNotText?: undefined, deadlineMs?: number): Promise<string>;
export async function readText(res: HttpResponse, maxBytes: number, isNotText: (head: Buffer) => boolean, deadlineMs?: number): Promise<string | null>;
export async function readText(res: HttpResponse, maxBytes: number, isNotText?: (head: Buffer) => boolean, deadlineMs = listingDeadlineMs): Promise<string | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  const deadline = Date.now() + deadlineMs;
  try {
    for await (const chunk of res.body) {
      if (Date.now() > deadline) {
        discard(res);
        throw new ReelpackError('BAD_LISTING', `the listing took over ${Math.round(deadlineMs / 1000)} s to arrive (${total} bytes so far): the server sends it too slowly: ${res.url}`);
      }
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
  return decodeText(Buffer.concat(chunks));
}
