// A hostile generation server for the reliability suite, on 127.0.0.1 only. It composes the
// demo server (which keeps the files and serves Range / If-Range / ETag and the simple faults:
// status + Retry-After, drop, stall, ignore-range, short, redirect) and adds what the demo
// server cannot do: protocol lies written on the raw socket (more bytes than Content-Length,
// wrong Content-Range, a 206 nobody asked for, garbage instead of HTTP), files that change
// between attempts, redirect loops and redirects to non-http schemes, and listings that are
// malformed, enormous or full of hostile names — as a results API, an nginx-style JSON index
// and an HTML index.
//
// Routes:  /api/results        results API (items point at /f/<index>)
//          /json/              nginx `autoindex_format json` listing; files at /json/<encoded name>
//          /html/              HTML autoindex listing; files at /html/<encoded name>
//          /f/<index>          a file by its index
// Every file request asks `fault(req, file, attempt)`; every listing request asks `listing(path, n)`.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDemoServer } from './demo-server.ts';
import type { DemoFile, DemoServer, DemoServerOptions, Fault } from './demo-server.ts';

/** Everything the demo server does, plus raw-socket lies and changes. */
export type HostileFault =
  | Fault
  | { kind: 'extra-bytes'; bytes: number } // honest Content-Length, then `bytes` more junk on the socket, then close
  | { kind: 'unbounded-extra'; bytes: number } // no Content-Length: the file plus `bytes` junk, close-delimited
  | { kind: 'wrong-range'; shift: number } // 206 whose Content-Range starts `shift` bytes away from the asked offset
  | { kind: 'wrong-total'; delta: number } // 206/200 claiming a total `delta` bytes off the real size, honest body
  | { kind: 'unasked-range' } // 206 with the second half of the file to a request that had no Range
  | { kind: 'garbage' } // not HTTP at all
  | { kind: 'lie-digest' } // the whole file, honest, with a Repr-Digest that does not match it
  | { kind: 'change'; data: Buffer } // the file is regenerated (new bytes, new ETag) before this answer
  | { kind: 'redirect-loop' } // /f/1 → /loop/a → /loop/b → /loop/a …
  | { kind: 'redirect-chain'; hops: number }; // hops valid redirects, then the file

export type FaultKind = HostileFault['kind'];

/** A listing answer that replaces the honest one. `body` may be a generator for enormous answers. */
export interface ListingAnswer {
  status?: number;
  type?: string;
  headers?: Record<string, string>;
  body: string | Buffer | (() => Iterable<Buffer>);
}

export interface HostileServerOptions extends Pick<DemoServerOptions, 'count' | 'size' | 'rateBytesPerSec'> {
  /** The name each file has in listings (default: the demo name). Hostile names go here. */
  nameOf?: (index: number) => string;
  /** Change or drop fields of a results-API item (e.g. omit size, lie about sha256). */
  apiItem?: (item: Record<string, unknown>, file: DemoFile, index: number) => Record<string, unknown>;
  /** Per file request: a fault, or undefined for an honest answer. `attempt` counts GETs of that file from 1. */
  fault?: (req: IncomingMessage, file: DemoFile, index: number, attempt: number) => HostileFault | undefined;
  /** Per listing request (path without query, n-th listing request from 1): a replacement answer. */
  listing?: (path: string, n: number, url: URL) => ListingAnswer | undefined;
  /** Largest page the results API serves. */
  maxPageSize?: number;
  /** Wait this long before answering any listing request (a slow server, or time to kill a client mid-listing). */
  listingDelayMs?: number;
}

export interface HostileServer {
  url: string;
  demo: DemoServer;
  files: DemoFile[];
  names: string[];
  /** Faults injected so far, by kind. */
  injected: Map<FaultKind, number>;
  faultsInjected(): number;
  /** Requests seen: listings and files. */
  requests: { listing: number; file: number };
  /** GETs per file index. */
  attempts: number[];
  close(): Promise<void>;
}

const faultHeader = 'x-hostile-fault';

export async function startHostileServer(options: HostileServerOptions = {}): Promise<HostileServer> {
  const demo = await startDemoServer({
    count: options.count, size: options.size, rateBytesPerSec: options.rateBytesPerSec, processingEvery: 0,
    // The hostile front decides; the demo server carries out its own kinds of fault.
    faults: (req) => {
      const raw = req.headers[faultHeader];
      return typeof raw === 'string' ? (JSON.parse(raw) as Fault) : undefined;
    },
  });
  const upstream = new URL(demo.url);
  const names = demo.files.map((f, i) => options.nameOf?.(i) ?? f.name);
  const byName = new Map<string, number>();
  names.forEach((name, i) => byName.set(name, i));
  const injected = new Map<FaultKind, number>();
  const requests = { listing: 0, file: 0 };
  const attempts = demo.files.map(() => 0);
  let listingCount = 0;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/loop/')) {
      const next = path === '/loop/a' ? '/loop/b' : '/loop/a';
      return void res.writeHead(302, { location: next }).end();
    }
    const chain = path.match(/^\/chain\/(\d+)\/(\d+)$/);
    if (chain) {
      const left = Number(chain[2]);
      return void res.writeHead(302, { location: left > 0 ? `/chain/${chain[1]}/${left - 1}` : `/f/${chain[1]}?final=1` }).end();
    }
    let index: number | undefined;
    const direct = path.match(/^\/f\/(\d+)$/);
    if (direct) index = Number(direct[1]);
    else if (/^\/(json|html)\/.+/.test(path)) index = byName.get(safeDecode(path.replace(/^\/(json|html)\//, '')));
    if (index === undefined || index >= demo.files.length) {
      requests.listing++;
      listingCount++;
      const answer = options.listing?.(path, listingCount, url) ?? honestListing(path, url);
      if (!answer) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      if (!options.listingDelayMs) return void sendListing(res, answer);
      const timer = setTimeout(() => sendListing(res, answer), options.listingDelayMs);
      return void res.on('close', () => clearTimeout(timer));
    }
    requests.file++;
    const file = demo.files[index]!;
    if (req.method === 'GET') attempts[index]!++;
    let fault = url.searchParams.has('final') ? undefined : options.fault?.(req, file, index, attempts[index]!);
    if (fault?.kind === 'unasked-range' && req.headers.range) fault = undefined; // a lie only to a request for everything
    if (fault) injected.set(fault.kind, (injected.get(fault.kind) ?? 0) + 1);
    serveFile(req, res, index, fault);
  });

  function honestListing(path: string, url: URL): ListingAnswer | undefined {
    const files = demo.files;
    if (path === '/api/results') {
      const pageSize = Math.min(Number(url.searchParams.get('page_size') ?? 20) || 20, options.maxPageSize ?? 1000);
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      const items = files.slice((page - 1) * pageSize, page * pageSize).map((f, k) => {
        const i = (page - 1) * pageSize + k;
        const item: Record<string, unknown> = {
          id: f.id, name: names[i], url: `/f/${i}`, size: f.data.length, sha256: f.sha256, created_at: f.createdAt, status: 'completed', params: f.params,
        };
        return options.apiItem?.(item, f, i) ?? item;
      });
      return { type: 'application/json', body: JSON.stringify({ items, page, page_size: pageSize, total: files.length }) };
    }
    if (path === '/json/') {
      const entries = files.map((f, i) => ({ name: names[i], type: 'file', mtime: f.lastModified, size: f.data.length }));
      return { type: 'application/json', body: JSON.stringify(entries) };
    }
    if (path === '/html/') {
      const links = names.map((n) => `<a href="${escapeHtml(encodeURIComponent(n))}">${escapeHtml(n)}</a>`).join('\n');
      return { type: 'text/html', body: `<html><head><title>Index of /html/</title></head><body><h1>Index of /html/</h1><pre><a href="../">../</a>\n${links}</pre></body></html>` };
    }
    return undefined;
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, index: number, fault: HostileFault | undefined): void {
    const file = demo.files[index]!;
    const data = file.data;
    const head = (status: string, headers: Record<string, string | number>) =>
      `HTTP/1.1 ${status}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}connection: close\r\n\r\n`;
    const raw = (text: string, body: Buffer = Buffer.alloc(0)) => {
      const socket = req.socket;
      socket.write(Buffer.concat([Buffer.from(text, 'latin1'), body]), () => socket.end());
    };
    const base = { 'content-type': 'video/mp4', etag: file.etag, 'last-modified': file.lastModified, 'accept-ranges': 'bytes' };
    const asked = Number(req.headers.range?.match(/^bytes=(\d+)-$/)?.[1] ?? 0);
    switch (fault?.kind) {
      case 'extra-bytes':
        return raw(head('200 OK', { ...base, 'content-length': data.length }), Buffer.concat([data, junk(fault.bytes)]));
      case 'unbounded-extra':
        return raw(head('200 OK', base), Buffer.concat([data, junk(fault.bytes)]));
      case 'wrong-range': {
        const start = Math.max(0, Math.min(data.length - 1, asked + fault.shift));
        const body = data.subarray(start);
        return raw(head('206 Partial Content', { ...base, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}`, 'content-length': body.length }), body);
      }
      case 'wrong-total': {
        const total = Math.max(1, data.length + fault.delta);
        const body = data.subarray(asked);
        return asked > 0
          ? raw(head('206 Partial Content', { ...base, 'content-range': `bytes ${asked}-${data.length - 1}/${total}`, 'content-length': body.length }), body)
          : raw(head('200 OK', { ...base, 'content-length': total }), data.subarray(0, Math.min(total, data.length)));
      }
      case 'unasked-range': {
        const start = Math.floor(data.length / 2);
        const body = data.subarray(start);
        return raw(head('206 Partial Content', { ...base, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}`, 'content-length': body.length }), body);
      }
      case 'garbage':
        return raw('SSH-2.0-OpenSSH_9.9 this is not HTTP\r\n\0\0\0', junk(512));
      case 'lie-digest':
        return raw(head('200 OK', { ...base, 'content-length': data.length, 'repr-digest': `sha-256=:${Buffer.alloc(32, 7).toString('base64')}:` }), data);
      case 'change':
        demo.replace(file.name, fault.data);
        break;
      case 'redirect-loop':
        return void res.writeHead(302, { location: '/loop/a' }).end();
      case 'redirect-chain':
        return void res.writeHead(302, { location: `/chain/${index}/${fault.hops - 1}` }).end();
      default:
        break;
    }
    const demoFault = fault && ['status', 'drop', 'stall', 'ignore-range', 'short', 'redirect'].includes(fault.kind) ? fault : undefined;
    proxy(req, res, `/outputs/${encodeURIComponent(file.name)}`, demoFault as Fault | undefined);
  }

  function proxy(req: IncomingMessage, res: ServerResponse, path: string, fault: Fault | undefined): void {
    const headers: Record<string, string> = {};
    for (const key of ['range', 'if-range', 'accept-encoding']) {
      const value = req.headers[key];
      if (typeof value === 'string') headers[key] = value;
    }
    if (fault) headers[faultHeader] = JSON.stringify(fault);
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, path, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // The demo server dropped or cut the body: do the same to our client.
      answer.on('aborted', () => req.socket.destroy());
      answer.on('error', () => req.socket.destroy());
      answer.on('close', () => {
        if (!answer.complete) req.socket.destroy();
      });
    });
    up.on('error', () => req.socket.destroy());
    res.on('close', () => up.destroy());
    up.end();
  }

  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    demo,
    files: demo.files,
    names,
    injected,
    faultsInjected: () => [...injected.values()].reduce((a, b) => a + b, 0),
    requests,
    attempts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await demo.close();
    },
  };
}

function sendListing(res: ServerResponse, answer: ListingAnswer): void {
  res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json', ...answer.headers });
  if (typeof answer.body !== 'function') return void res.end(answer.body);
  // Enormous answers are generated piece by piece, with backpressure, and stop when the client goes.
  const pieces = answer.body()[Symbol.iterator]();
  const pump = () => {
    for (;;) {
      if (res.destroyed) return;
      const next = pieces.next();
      if (next.done) return void res.end();
      if (!res.write(next.value)) return void res.once('drain', pump);
    }
  };
  res.on('error', () => {});
  pump();
}

function junk(bytes: number): Buffer {
  return Buffer.alloc(bytes, 0x5a);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small seeded PRNG (mulberry32), so every run injects the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The hostile names a listing can carry; each pair that would collide must still map to distinct files. */
export const hostileNames: readonly string[] = [
  '../../x.mp4', '/etc/x.mp4', 'a\\..\\b.mp4', 'C:\\x.mp4', 'CON.mp4', 'con.MP4', 'nul', 'LPT1.txt',
  'nul\u0000byte.mp4', 'ctl\u0001\u001b[31mred\u0007.mp4', 'new\nline.mp4', 'tab\tname.mp4',
  `${'a'.repeat(300)}.mp4`, `${'é'.repeat(300)}.mp4`, `${'长'.repeat(150)}.mp4`,
  'same.mp4', 'same.mp4', 'SAME.mp4', 'Same.Mp4',
  'Cafe\u0301.mp4', 'Caf\u00e9.mp4',
  '..', '.', '', '/', '\\\\server\\share\\x.mp4', 'trailing. . ', 'sub/../../../escape.mp4',
  'manifest.json', 'SHA256SUMS', '.reelpack/journal', 'dir/file.mp4', 'dir', 'what?.mp4', 'pipe|star*.mp4',
  '%2e%2e%2fencoded.mp4', 'file:///etc/passwd', '~/home.mp4', '-rf.mp4', ' lead.mp4',
  'rtl\u202egpj.exe', 'c1\u009bcsi.mp4', 'zero\u200bwidth.mp4', '\u03b1\u03c2.mp4', '\u03b1\u03c3.mp4',
];
