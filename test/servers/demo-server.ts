// A generation-server stand-in on 127.0.0.1: the results API (paged, capped page_size,
// some results still processing) over generated sample videos, served with Range,
// If-Range, strong ETags and sha256. Tests inject faults per request through `faults`.
//   npm run demo:server [-- --count 24 --port 8765]
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface DemoFile {
  id: string;
  name: string;
  data: Buffer;
  etag: string;
  sha256: string;
  createdAt: string;
  status: 'completed' | 'processing' | 'failed';
  params: Record<string, unknown>;
  lastModified: string;
}

/** What to do to one request. Faults are decided per request by the test. */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop'; afterBytes: number } // close the socket mid-body
  | { kind: 'stall'; afterBytes: number } // stop sending, keep the socket open
  | { kind: 'ignore-range' } // answer 200 with the whole file
  | { kind: 'ignore-if-range' } // serve the range even when If-Range names another version
  | { kind: 'gzip' } // send the whole file gzipped (Content-Encoding: gzip) whatever was asked
  | { kind: 'short'; bytes: number } // send fewer bytes than Content-Length, then end
  | { kind: 'redirect'; location: string };

export interface DemoServerOptions {
  count?: number;
  /** Bytes per file, or a function of the index. */
  size?: number | ((index: number) => number);
  port?: number;
  /** Largest page the API serves, whatever the client asks. */
  maxPageSize?: number;
  /** Every n-th result is still processing (0 = none). */
  processingEvery?: number;
  faults?: (req: IncomingMessage, file: DemoFile | undefined) => Fault | undefined;
  /** Announce this sha256 instead of the real one (a lying server). */
  lieSha256?: (file: DemoFile) => string | undefined;
  /** Requests seen, for assertions. */
  log?: Array<{ method: string; url: string; range?: string | undefined; ifRange?: string | undefined; status: number }>;
  token?: string;
  /** Throttle each response body to this many bytes per second (to interrupt downloads mid-way). */
  rateBytesPerSec?: number;
}

export interface DemoServer {
  url: string;
  files: DemoFile[];
  /** Changes a file's bytes (new ETag and sha256), as a regenerated result would. */
  replace(name: string, data: Buffer): void;
  bytesSent(): number;
  close(): Promise<void>;
}

/** Deterministic bytes that start like an MP4 (ftyp box), so players and sniffers see video. */
export function sampleVideo(index: number, size: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = ((index + 1) * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  const data = Buffer.from(words.buffer, 0, size);
  const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
  ftyp.copy(data, 0, 0, Math.min(ftyp.length, size));
  return data;
}

function makeFile(index: number, data: Buffer, status: DemoFile['status']): DemoFile {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const created = new Date(Date.UTC(2026, 10, 1, 8, 0, index));
  return {
    id: `job-${String(index + 1).padStart(5, '0')}`,
    name: `result_${String(index + 1).padStart(4, '0')}.mp4`,
    data,
    sha256,
    etag: `"${sha256.slice(0, 16)}"`,
    createdAt: created.toISOString(),
    lastModified: created.toUTCString(),
    status,
    params: { avatar: `presenter-${(index % 3) + 1}`, audio: `script_${index + 1}.wav`, seed: 1000 + index, fps: 25 },
  };
}

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const count = options.count ?? 24;
  const sizeOf = typeof options.size === 'function' ? options.size : () => (options.size as number | undefined) ?? 256 * 1024;
  const files: DemoFile[] = [];
  for (let i = 0; i < count; i++) {
    const processing = options.processingEvery && (i + 1) % options.processingEvery === 0;
    files.push(makeFile(i, sampleVideo(i, sizeOf(i)), processing ? 'processing' : 'completed'));
  }
  const byName = new Map(files.map((f) => [f.name, f]));
  let sent = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const done = (status: number) => options.log?.push({ method: req.method ?? 'GET', url: url.pathname + url.search, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, status });
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return done(401);
    }
    if (url.pathname === '/api/results') {
      const pageSize = Math.min(Number(url.searchParams.get('page_size') ?? 20) || 20, options.maxPageSize ?? 50);
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      const slice = files.slice((page - 1) * pageSize, page * pageSize);
      const items = slice.map((f) => ({
        id: f.id, name: f.name, url: `/outputs/${encodeURIComponent(f.name)}`, size: f.data.length,
        sha256: options.lieSha256?.(f) ?? f.sha256, created_at: f.createdAt, status: f.status, params: f.params,
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items, page, page_size: pageSize, total: files.length }));
      return done(200);
    }
    if (url.pathname === '/' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Demo generation server</title><h1>Demo generation server</h1><p>${files.length} results; API at <code>/api/results</code>.</p>`);
      return done(200);
    }
    const match = url.pathname.match(/^\/outputs\/(.+)$/);
    const file = match ? byName.get(decodeURIComponent(match[1]!)) : undefined;
    const fault = options.faults?.(req, file);
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}).end(`fault ${fault.status}`);
      return done(fault.status);
    }
    if (fault?.kind === 'redirect') {
      res.writeHead(302, { location: fault.location }).end();
      return done(302);
    }
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return done(404);
    }
    const status = serveFile(req, res, file, fault, (n) => (sent += n), options.rateBytesPerSec);
    done(status);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    replace(name, data) {
      const old = byName.get(name);
      if (!old) throw new Error(`no file ${name}`);
      const next = { ...makeFile(files.indexOf(old), data, old.status), id: old.id, name: old.name };
      next.lastModified = new Date().toUTCString();
      Object.assign(old, next);
    },
    bytesSent: () => sent,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function serveFile(req: IncomingMessage, res: ServerResponse, file: DemoFile, fault: Fault | undefined, count: (n: number) => void, rate?: number): number {
  const total = file.data.length;
  const headers: Record<string, string> = {
    'content-type': 'video/mp4', etag: file.etag, 'last-modified': file.lastModified, 'accept-ranges': 'bytes',
  };
  let start = 0;
  let end = total - 1;
  let status = 200;
  const range = req.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
  const ifRange = req.headers['if-range'];
  const rangeValid = !ifRange || ifRange === file.etag || ifRange === file.lastModified || fault?.kind === 'ignore-if-range';
  if (range && rangeValid && fault?.kind !== 'ignore-range') {
    start = Number(range[1]);
    end = range[2] ? Math.min(Number(range[2]), total - 1) : total - 1;
    if (start >= total) {
      res.writeHead(416, { 'content-range': `bytes */${total}` }).end();
      return 416;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${end}/${total}`;
  }
  if (fault?.kind === 'gzip') {
    const coded = gzipSync(file.data);
    res.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': String(coded.length) }).end(req.method === 'HEAD' ? undefined : coded);
    count(coded.length);
    return 200;
  }
  headers['content-length'] = String(end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return status;
  }
  let body = file.data.subarray(start, end + 1);
  if (fault?.kind === 'drop' || fault?.kind === 'stall' || fault?.kind === 'short') {
    const cut = fault.kind === 'short' ? fault.bytes : fault.afterBytes;
    body = body.subarray(0, Math.min(cut, body.length));
    count(body.length);
    res.write(body, () => {
      if (fault.kind === 'drop') res.socket?.destroy();
      if (fault.kind === 'short') res.socket?.end();
      // 'stall': leave the socket open and silent; the client must give up by itself.
    });
    return status;
  }
  if (rate) {
    sendThrottled(res, body, rate, count);
    return status;
  }
  count(body.length);
  res.end(body);
  return status;
}

function sendThrottled(res: ServerResponse, body: Buffer, rate: number, count: (n: number) => void): void {
  const chunk = 16 * 1024;
  const interval = Math.max(1, (chunk / rate) * 1000);
  let offset = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    const piece = body.subarray(offset, offset + chunk);
    offset += piece.length;
    count(piece.length);
    if (offset >= body.length) {
      clearInterval(timer);
      res.end(piece);
    } else {
      res.write(piece);
    }
  }, interval);
  res.on('close', () => clearInterval(timer));
}

// Run as a program: start on a port and print how to use it.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const server = await startDemoServer({ count: arg('count', 24), port: arg('port', 8765), size: (i) => (1 + (i % 4)) * 1024 * 1024, processingEvery: 8 });
  process.stdout.write(`Demo generation server: ${server.url}  (${server.files.length} results, results API at ${server.url}/api/results)\n`);
  process.stdout.write(`Try:  npx reelpack fetch ${server.url} --out ./demo-download\n`);
}
