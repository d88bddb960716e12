// The browser host: the built UI and the contract (HTTP + WebSocket) on 127.0.0.1 only,
// guarded by a random token. It is how headless machines use Reelpack and how the UI is tested.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { createAppService } from '../core/app/app-service.ts';
import type { AppService, AppServiceOptions } from '../core/app/app-service.ts';
import { commandNames, dispatchCommand, eventNames } from '../core/contract.ts';
import { ReelpackError } from '../core/errors.ts';
import { defaultConfigDir } from '../core/jobs/catalog.ts';
import { openWithDesktop } from './open-path.ts';
import { contentSecurityPolicy, securityHeaders, serveStatic } from './static-files.ts';

export interface HostOptions {
  /** TCP port on 127.0.0.1; 0 or omitted = any free port. */
  port?: number;
  /** Settings, job history and catalog; default the CLI's config dir. */
  configDir?: string;
  /** The built UI (vite build output); default <repo>/dist/ui. */
  uiDir?: string;
  /** Fixed token (tests); default 32 random bytes. */
  token?: string;
  /** How "Open folder" / "Show in folder" open things; default xdg-open / open / explorer. */
  openPath?: (target: string) => Promise<void>;
  showItemInFolder?: (target: string) => Promise<void>;
  version?: string;
  jobDefaults?: AppServiceOptions['jobDefaults'];
  eventThrottleMs?: number;
}

export interface RunningHost {
  /** http://127.0.0.1:<port>/?token=<token> */
  url: string;
  port: number;
  token: string;
  service: AppService;
  close(): Promise<void>;
}

export const defaultUiDir = fileURLToPath(new URL('../../dist/ui/', import.meta.url));
const maxBodyBytes = 1024 * 1024;

function sameSecret(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export async function startHost(options: HostOptions = {}): Promise<RunningHost> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  const uiDir = path.resolve(options.uiDir ?? defaultUiDir);
  if (!existsSync(path.join(uiDir, 'index.html'))) {
    throw new ReelpackError('USAGE', `no built UI in ${uiDir}: run "npm run build:ui" first (or "npm run serve", which builds it)`);
  }
  const service = await createAppService({
    configDir: options.configDir ?? defaultConfigDir(),
    version: options.version,
    eventThrottleMs: options.eventThrottleMs,
    jobDefaults: options.jobDefaults,
    platform: {
      shell: 'browser',
      openPath: options.openPath ?? ((t) => openWithDesktop(t)),
      showItemInFolder: options.showItemInFolder ?? ((t) => openWithDesktop(t, true)),
    },
  });

  let port = 0;
  // Cookies do not separate ports: name ours after the port so two hosts do not collide.
  const cookieName = () => `reelpack_${port}`;
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const headers = () => securityHeaders(contentSecurityPolicy(`'self' ws://127.0.0.1:${port} ws://localhost:${port}`));

  /** Host header (DNS rebinding), Origin (other sites), then the token: cookie, query or bearer. */
  function refusal(req: IncomingMessage, url: URL): string | null {
    if (!allowedHosts().has(req.headers.host ?? '')) return 'bad host';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return 'bad origin';
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (sameSecret(url.searchParams.get('token') ?? undefined, token) || sameSecret(cookieValue(req, cookieName()), token) || sameSecret(bearer, token)) {
      return null;
    }
    return 'missing or wrong token';
  }

  function deny(res: ServerResponse, status: number, why: string): void {
    res.writeHead(status, { ...headers(), 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`Reelpack: ${why}. Open the address that "reelpack serve" printed (it ends in ?token=…).\n`);
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) throw new Error('request body too large');
      chunks.push(chunk as Buffer);
    }
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const why = refusal(req, url);
      if (why) return deny(res, why === 'bad host' ? 421 : 403, why);
      if (url.searchParams.has('token')) {
        // Trade the token in the address for a cookie, and drop it from the address bar and history.
        url.searchParams.delete('token');
        res.writeHead(303, {
          ...headers(),
          'Set-Cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          Location: url.pathname + url.search,
        });
        return res.end();
      }
      if (url.pathname === '/api/contract' && req.method === 'GET') {
        res.writeHead(200, { ...headers(), 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ commands: commandNames, events: eventNames }));
      }
      if (url.pathname.startsWith('/api/')) {
        // JSON only: a cross-site form cannot send it without a CORS preflight, which we never answer.
        if (req.method !== 'POST' || !(req.headers['content-type'] ?? '').startsWith('application/json')) return deny(res, 405, 'POST application/json only');
        let args: unknown;
        try {
          args = await readJson(req);
        } catch (e) {
          return deny(res, 400, (e as Error).message);
        }
        const reply = await dispatchCommand(service, url.pathname.slice(5), args);
        res.writeHead(200, { ...headers(), 'Content-Type': 'application/json' });
        return res.end(JSON.stringify(reply));
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
      await serveStatic(uiDir, url.pathname, res, headers());
    })().catch((e: unknown) => {
      if (!res.headersSent) deny(res, 500, (e as Error).message);
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const why = url.pathname === '/ws' ? refusal(req, url) : 'not found';
    if (why) {
      socket.end(`HTTP/1.1 ${why === 'not found' ? '404 Not Found' : '403 Forbidden'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('message', (data) => {
        let message: { id?: unknown; command?: unknown; args?: unknown };
        try {
          message = JSON.parse(String(data)) as typeof message;
        } catch {
          return ws.close(1003, 'not JSON');
        }
        void dispatchCommand(service, message.command, message.args).then((reply) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: message.id, reply }));
        });
      });
    });
  });
  const unsubscribe = service.subscribe((event, payload) => {
    const text = JSON.stringify({ event, payload });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    service,
    close() {
      closing ??= (async () => {
        unsubscribe();
        for (const ws of clients) ws.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await service.close();
      })();
      return closing;
    },
  };
}
