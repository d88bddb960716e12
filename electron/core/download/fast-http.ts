// Downloads' GETs over plain http, on keep-alive connections of our own that read into one
// reused buffer each (net's `onread`) instead of a fresh buffer per socket read.
//
// Why not undici (or node:http) for file bodies: each socket read there is a new ~64 KiB
// buffer outside V8's heap, ~16 000 per GiB, and that external memory makes V8 run a full
// mark-compact every ~25 MB (43 of them for 1 GiB in a profile, 14 % of all CPU on the GC
// thread). Measured on 1000 × 1 MiB from loopback nginx, 3 connections, bodies discarded:
// undici 1.05–1.14 s with ~1 s of CPU and 160–185 MB RSS; node:http 1.03 s; reading into
// a reused buffer 0.34–0.37 s with ~0.1 s of CPU and 72 MB. Reproduce with `npm run bench`.
//
// The scope is small on purpose: GET over plain http/1.1 (1.0 answers are read to their end),
// bodies framed by Content-Length, chunked coding or the end of the connection. https, HEAD and
// every listing go over undici (http-client.ts).
import net from 'node:net';
import { connectError, ReelpackError } from '../errors.ts';

/** Receives each body chunk. The chunk is a view into a reused buffer: it is valid until the
 * handler returns, or, if the handler returns a promise, until that promise settles (no chunk
 * is delivered meanwhile). Throwing or rejecting fails the body. */
export type ChunkHandler = (chunk: Buffer) => Promise<void> | undefined;

/** A response body read once, by pushing its chunks to a handler. */
export interface BodyStream {
  /** Resolves when the body is complete, or after `stop()` once the last handler call settled. */
  consume(onChunk: ChunkHandler): Promise<void>;
  /** Drops the rest of the body (and its connection). Never throws; safe at any time. */
  stop(): void;
}

export interface FastResponse {
  statusCode: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  body: BodyStream;
}

export interface FastHttpOptions {
  /** No byte (head or body) for this long fails the exchange as STALLED; paused bodies do not count. */
  stallTimeoutMs: number;
  connectTimeoutMs: number;
  /** Idle connections kept per origin. */
  maxIdlePerOrigin: number;
}

const readBufferBytes = 256 * 1024;
const maxHeadBytes = 64 * 1024;
const maxInterimAnswers = 16;
/** Trailer fields are skipped, up to this much: a server could otherwise send them forever. */
const maxTrailerBytes = 64 * 1024;
/** Below common server keep-alive timeouts (nginx 75 s, Apache 5 s), so a kept socket is rarely stale. */
const idleTimeoutMs = 4000;
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type Phase = 'head' | 'body' | 'idle' | 'dead';

class Connection {
  readonly socket: net.Socket;
  readonly key: string;
  private readonly pool: FastHttpPool;
  private readonly options: FastHttpOptions;
  private url: string;
  /** 'idle' until the first exchange: a server that speaks first is out of step. */
  private phase: Phase = 'idle';
  private head: Buffer = Buffer.alloc(0);
  /** Bytes of the current exchange's answer received so far (head included). */
  answerBytes = 0;
  private interimAnswers = 0;
  private headWaiter: { resolve: (r: FastResponse) => void; reject: (e: unknown) => void } | null = null;
  private bodyWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private onChunk: ChunkHandler | null = null;
  /** Body bytes still to come; null: until the connection ends. */
  private remaining: number | null = null;
  /** Bytes read but not yet handed on: a view into the read buffer (which is not refilled
   * while they wait), or the copied bytes that came with the head. */
  private unread: Buffer | null = null;
  private chunked: ChunkedDecoder | null = null;
  private reusable = false;
  private waiting = false;
  private stopped = false;
  private failure: unknown = null;
  private bodyDone = false;
  /** The connection ended, which ends a body without Content-Length. */
  private ended = false;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Counts exchanges: a body handle from an earlier one must not touch the connection again. */
  private generation = 0;
  private abortCleanup: (() => void) | null = null;

  constructor(pool: FastHttpPool, key: string, host: string, port: number, options: FastHttpOptions, url: string) {
    this.pool = pool;
    this.key = key;
    this.options = options;
    this.url = url;
    this.socket = net.connect({
      host, port, noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(readBufferBytes), callback: (n: number, buffer: Uint8Array) => this.onRead(buffer as Buffer, n) },
    });
    this.socket.on('error', (error: NodeJS.ErrnoException) => {
      this.fail(connectError(error.code ?? error.message, this.url, error));
    });
    this.socket.on('timeout', () => this.fail(new ReelpackError('STALLED', `no data from server (stalled): ${this.url}`)));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());
  }

  /** Resolves once connected; fails after the connect timeout. */
  connected(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.destroy();
        reject(connectError('UND_ERR_CONNECT_TIMEOUT', this.url));
      }, this.options.connectTimeoutMs);
      const onAbort = () => {
        this.destroy();
        reject(new ReelpackError('CANCELLED', 'cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (error?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.socket.removeListener('connect', onConnect);
        this.socket.removeListener('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = () => done();
      const onClose = () => done(this.failure ?? new ReelpackError('NETWORK', `network error (connection closed): ${this.url}`));
      this.socket.once('connect', onConnect);
      this.socket.once('close', onClose);
      if (signal?.aborted) onAbort();
    });
  }

  /** Sends the request; resolves with the answer's head. */
  exchange(request: string, url: string, signal: AbortSignal | undefined): Promise<FastResponse> {
    this.clearIdle();
    this.generation++;
    this.url = url;
    this.phase = 'head';
    this.head = Buffer.alloc(0);
    this.answerBytes = 0;
    this.interimAnswers = 0;
    this.onChunk = null;
    this.unread = null;
    this.chunked = null;
    this.waiting = false;
    this.stopped = false;
    this.bodyDone = false;
    this.ended = false;
    this.failure = null;
    const onAbort = () => this.fail(new ReelpackError('CANCELLED', 'cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    this.abortCleanup = () => signal?.removeEventListener('abort', onAbort);
    return new Promise<FastResponse>((resolve, reject) => {
      this.headWaiter = { resolve, reject };
      if (signal?.aborted) return onAbort();
      this.socket.setTimeout(this.options.stallTimeoutMs);
      this.socket.write(request);
      this.socket.resume();
    });
  }

  private onRead(buffer: Buffer, n: number): boolean {
    if (this.phase === 'head') return this.readHead(buffer.subarray(0, n));
    if (this.phase === 'body') {
      this.unread = buffer.subarray(0, n);
      // A body that completed here leaves the connection idle: keep reading, so that anything
      // the server sends now is seen (and the connection dropped) instead of taken as the next answer.
      return this.pump() || this.isIdle;
    }
    // An idle connection the server writes to is out of step: never reuse it.
    this.destroy();
    return false;
  }

  private readHead(data: Buffer): boolean {
    this.answerBytes += data.length;
    this.head = Buffer.concat([this.head, data]); // a copy: heads are small, and the read buffer is reused
    for (;;) {
      const end = this.head.indexOf('\r\n\r\n', 0, 'latin1');
      if (end > maxHeadBytes || (end < 0 && this.head.length > maxHeadBytes)) {
        this.fail(badResponse(`response headers over ${maxHeadBytes / 1024} KiB`, this.url));
        return false;
      }
      if (end < 0) return true;
      let parsed: ParsedHead;
      try {
        parsed = parseHead(this.head.toString('latin1', 0, end), this.url);
      } catch (error) {
        this.fail(error);
        return false;
      }
      const rest = this.head.subarray(end + 4);
      if (parsed.statusCode >= 100 && parsed.statusCode < 200) {
        if (parsed.statusCode === 101) {
          this.fail(badResponse('unexpected protocol switch (101)', this.url));
          return false;
        }
        // An interim answer (100, 103): the real one follows. Endless ones would never stall.
        if (++this.interimAnswers > maxInterimAnswers) {
          this.fail(badResponse(`more than ${maxInterimAnswers} interim (1xx) answers`, this.url));
          return false;
        }
        this.head = Buffer.from(rest);
        continue;
      }
      return this.startBody(parsed, rest);
    }
  }

  private startBody(parsed: ParsedHead, rest: Buffer): boolean {
    const waiter = this.headWaiter!;
    this.headWaiter = null;
    this.phase = 'body';
    const empty = parsed.statusCode === 204 || parsed.statusCode === 304;
    this.chunked = parsed.chunked && !empty ? new ChunkedDecoder(this.url) : null;
    this.remaining = empty ? 0 : parsed.chunked ? null : parsed.contentLength;
    // Both framings at once is how requests get smuggled: read this answer, then drop the connection.
    this.reusable = parsed.keepAlive && (this.chunked !== null || this.remaining !== null) && !(parsed.chunked && parsed.contentLength !== null);
    this.unread = rest.length > 0 ? rest : null;
    this.head = Buffer.alloc(0);
    this.socket.setTimeout(0); // paused until consumed: the caller's time, not the server's
    const generation = this.generation;
    const current = () => generation === this.generation;
    const body: BodyStream = {
      consume: (onChunk) => (current() ? this.consume(onChunk) : Promise.reject(new Error('this body was already read'))),
      stop: () => {
        if (current()) this.stop();
      },
    };
    waiter.resolve({ statusCode: parsed.statusCode, headers: parsed.headers, body });
    return false; // paused until the body is consumed
  }

  private consume(onChunk: ChunkHandler): Promise<void> {
    if (this.onChunk) return Promise.reject(new Error('a body can be consumed once'));
    this.onChunk = onChunk;
    return new Promise<void>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.bodyWaiter = { resolve, reject };
      if (this.stopped) return this.settleStopped();
      if (!this.pump()) return;
      this.socket.setTimeout(this.options.stallTimeoutMs);
      this.socket.resume();
    });
  }

  private get bodyComplete(): boolean {
    return this.chunked ? this.chunked.done : this.remaining === 0;
  }

  /**
   * Hands the unread bytes to the consumer (decoding chunked framing) until they are used up,
   * the consumer asks to wait, or the body is complete. Returns whether to read more.
   */
  private pump(): boolean {
    while (this.phase === 'body' && !this.stopped && !this.waiting) {
      if (this.bodyComplete || this.ended) {
        if (this.unread && this.unread.length > 0) this.reusable = false; // bytes past the body: out of step
        this.complete();
        return false;
      }
      const data = this.unread;
      if (!data || data.length === 0) {
        this.unread = null;
        return true;
      }
      let piece: Buffer | null;
      try {
        if (this.chunked) {
          const { used, body } = this.chunked.next(data);
          piece = body;
          this.unread = data.subarray(used);
        } else {
          const take = this.remaining === null ? data.length : Math.min(this.remaining, data.length);
          if (this.remaining !== null) this.remaining -= take;
          piece = data.subarray(0, take);
          this.unread = data.subarray(take);
        }
      } catch (error) {
        this.fail(error);
        return false;
      }
      if (!piece || piece.length === 0) continue;
      let wait: Promise<void> | undefined;
      try {
        wait = this.onChunk!(piece);
      } catch (error) {
        this.fail(error);
        return false;
      }
      if (wait) {
        this.waiting = true;
        this.socket.setTimeout(0); // the consumer is slow, not the server
        wait.then(() => this.afterWait(), (error: unknown) => this.fail(error));
        return false;
      }
    }
    if (this.stopped) this.settleStopped();
    return false;
  }

  private afterWait(): void {
    this.waiting = false;
    if (this.stopped) return this.settleStopped(); // stop() closed the connection meanwhile
    if (this.phase !== 'body') return;
    if (!this.pump()) return;
    this.socket.setTimeout(this.options.stallTimeoutMs);
    this.socket.resume();
  }

  /** The body is complete: settle the consumer, and keep the connection if it can serve again. */
  private complete(): false {
    this.bodyDone = true;
    this.abortCleanup?.();
    this.socket.setTimeout(0);
    this.phase = this.reusable ? 'idle' : 'dead';
    const waiter = this.bodyWaiter;
    this.bodyWaiter = null;
    if (this.reusable) {
      this.idleTimer = setTimeout(() => this.destroy(), idleTimeoutMs).unref();
      this.socket.resume(); // to notice the server closing it while idle
      this.pool.release(this);
    } else {
      this.destroy();
      this.pool.forget(this);
    }
    waiter?.resolve();
    return false;
  }

  private stop(): void {
    if (this.stopped || this.bodyDone) return;
    this.stopped = true;
    this.abortCleanup?.();
    this.destroy();
    queueMicrotask(() => this.settleStopped());
  }

  private settleStopped(): void {
    if (this.waiting || !this.bodyWaiter) return;
    const waiter = this.bodyWaiter;
    this.bodyWaiter = null;
    waiter.resolve();
  }

  private onEnd(): void {
    if (this.phase === 'body' && this.remaining === null && !this.chunked) {
      // A body framed by the connection's end (reading stops while the consumer waits, so
      // this comes after its last chunk; if not, the wait's end completes it).
      this.ended = true;
      if (!this.waiting) this.pump();
      return;
    }
    this.onClose();
  }

  private onClose(): void {
    if (this.phase === 'body' && this.ended) return; // complete() follows, now or after the consumer's wait
    if (this.phase === 'idle' || this.phase === 'dead' || this.stopped) {
      this.phase = 'dead';
      this.pool.forget(this);
      return;
    }
    if (this.phase === 'head' && this.answerBytes === 0) {
      // Accepted, then closed without a byte of answer: what a port proxy in front of a
      // restarting server does. Counted as the server being down, like a refused connection.
      this.fail(new ReelpackError('NETWORK', `the server closed the connection without answering: ${this.url}`, { serverUnreachable: true }));
      return;
    }
    const missing = this.remaining === null ? '' : ` (${this.remaining} bytes missing)`;
    this.fail(new ReelpackError('NETWORK', `connection closed early${missing}: ${this.url}`));
  }

  private fail(error: unknown): void {
    if (this.phase === 'dead' && this.failure) return;
    this.failure = error;
    this.phase = 'dead';
    this.abortCleanup?.();
    this.destroy();
    this.pool.forget(this);
    const head = this.headWaiter;
    const body = this.bodyWaiter;
    this.headWaiter = null;
    this.bodyWaiter = null;
    head?.reject(error);
    body?.reject(error);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  destroy(): void {
    this.clearIdle();
    if (this.phase === 'idle') this.phase = 'dead';
    this.socket.destroy();
  }

  get isIdle(): boolean {
    return this.phase === 'idle' && !this.socket.destroyed;
  }

  get busy(): boolean {
    return this.phase === 'head' || this.phase === 'body';
  }
}

/** Decodes `Transfer-Encoding: chunked` as it arrives (RFC 9112 §7.1); strict: odd framing is BAD_RESPONSE. */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private line = '';
  private left = 0;
  private trailerBytes = 0;
  private readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Reads from the start of `data`: how many bytes it used, and the body bytes among them (a view). */
  next(data: Buffer): { used: number; body: Buffer | null } {
    if (this.state === 'data') {
      const take = Math.min(this.left, data.length);
      this.left -= take;
      if (this.left === 0) this.state = 'data-end';
      return { used: take, body: data.subarray(0, take) };
    }
    if (this.state === 'done') return { used: 0, body: null };
    const lf = data.indexOf(0x0a);
    const used = lf < 0 ? data.length : lf + 1;
    this.line += data.toString('latin1', 0, used);
    if (this.line.length > 8192) throw badResponse('chunk header line too long', this.url);
    if (lf < 0) return { used, body: null };
    const line = this.line;
    this.line = '';
    if (!line.endsWith('\r\n')) throw badResponse('bare LF in chunked framing', this.url);
    const text = line.slice(0, -2);
    if (this.state === 'size') {
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(text);
      if (!size) throw badResponse(`chunk size "${text.slice(0, 40)}"`, this.url);
      this.left = parseInt(size[1]!, 16);
      this.state = this.left === 0 ? 'trailer' : 'data';
    } else if (this.state === 'data-end') {
      if (text !== '') throw badResponse('chunk longer than its size', this.url);
      this.state = 'size';
    } else if (text === '') {
      this.state = 'done'; // trailer fields, if any, are not needed
    } else if ((this.trailerBytes += line.length) > maxTrailerBytes) {
      throw badResponse(`trailer fields over ${maxTrailerBytes / 1024} KiB`, this.url);
    }
    return { used, body: null };
  }
}

interface ParsedHead {
  statusCode: number;
  headers: Record<string, string | undefined>;
  /** null: the body lasts until the connection ends. */
  contentLength: number | null;
  chunked: boolean;
  keepAlive: boolean;
}

function badResponse(what: string, url: string): ReelpackError {
  return new ReelpackError('BAD_RESPONSE', `malformed HTTP response (${what}): ${url}`);
}

/** Parses a response head (status line and headers, without the blank line). Strict: anything odd is BAD_RESPONSE. */
export function parseHead(text: string, url: string): ParsedHead {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/.exec(lines[0]!);
  if (!status) throw badResponse('status line', url);
  const headers: Record<string, string | undefined> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !headerName.test(name) || /[\r\n\0]/.test(line)) throw badResponse(`header line "${line.slice(0, 60)}"`, url);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  let contentLength: number | null = null;
  if (headers['content-length'] !== undefined) {
    const values = headers['content-length'].split(',').map((v) => v.trim());
    if (!values.every((v) => /^\d{1,15}$/.test(v) && v === values[0])) throw badResponse(`Content-Length "${headers['content-length'].slice(0, 60)}"`, url);
    contentLength = Number(values[0]);
  }
  const coding = headers['transfer-encoding']?.toLowerCase();
  if (coding !== undefined && coding !== 'chunked') throw badResponse(`unsupported Transfer-Encoding "${coding.slice(0, 60)}"`, url);
  const http11 = status[1] === '1';
  const connection = headers.connection?.toLowerCase() ?? '';
  return {
    statusCode: Number(status[2]),
    headers,
    contentLength,
    chunked: headers['transfer-encoding'] !== undefined,
    keepAlive: http11 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection),
  };
}

/** Serializes a GET; refuses header names and values that could split the request. */
export function serializeGet(url: URL, headers: Record<string, string>): string {
  let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (!headerName.test(name) || /[\r\n\0]/.test(value)) throw new ReelpackError('USAGE', `invalid HTTP header ${JSON.stringify(name)}: it may not contain line breaks`);
    text += `${name}: ${value}\r\n`;
  }
  return text + '\r\n';
}

/** Keep-alive connections per origin, for `http:` GETs. */
export class FastHttpPool {
  private readonly options: FastHttpOptions;
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  private closed = false;

  constructor(options: FastHttpOptions) {
    this.options = options;
  }

  /**
   * Sends a GET and resolves with the answer's head; the caller must consume or stop the body.
   * A kept connection that turns
   * out closed before any answer byte is retried once on a new one, as GET allows.
   */
  async get(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<FastResponse> {
    if (this.closed) throw new ReelpackError('CANCELLED', 'cancelled');
    const request = serializeGet(url, headers);
    for (let attempt = 0; ; attempt++) {
      const kept = attempt === 0 ? this.takeIdle(url.host) : undefined;
      const connection = kept ?? (await this.open(url, signal));
      try {
        return await connection.exchange(request, url.href, signal);
      } catch (error) {
        const stale = kept && connection.answerBytes === 0 && (error as ReelpackError).code !== 'CANCELLED' && (error as ReelpackError).code !== 'STALLED';
        if (!stale) throw error;
      }
    }
  }

  private async open(url: URL, signal: AbortSignal | undefined): Promise<Connection> {
    const port = Number(url.port || 80);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const connection = new Connection(this, url.host, host, port, this.options, url.href);
    this.all.add(connection);
    await connection.connected(signal);
    if (this.closed) {
      connection.destroy(); // the client closed while this one connected
      throw new ReelpackError('CANCELLED', 'cancelled');
    }
    return connection;
  }

  private takeIdle(key: string): Connection | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const connection = list.pop()!;
      if (connection.isIdle) return connection;
    }
    return undefined;
  }

  /** A connection finished an exchange and can serve again. */
  release(connection: Connection): void {
    const list = this.idle.get(connection.key) ?? [];
    if (this.closed || list.length >= this.options.maxIdlePerOrigin) return connection.destroy();
    list.push(connection);
    this.idle.set(connection.key, list);
  }

  forget(connection: Connection): void {
    this.all.delete(connection);
    const list = this.idle.get(connection.key);
    const at = list?.indexOf(connection) ?? -1;
    if (at >= 0) list!.splice(at, 1);
  }

  /** Closes idle connections now; busy ones end with their exchange, or after `graceMs` are destroyed. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    for (const connection of [...this.all]) if (!connection.busy) connection.destroy();
    const deadline = Date.now() + graceMs;
    while ([...this.all].some((c) => c.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const connection of [...this.all]) connection.destroy();
    this.all.clear();
    this.idle.clear();
  }
}
