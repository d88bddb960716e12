// app://reelpack/ serves the packaged UI (dist/ui) — never remote content — with a strict CSP.
import { net, protocol } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const appScheme = 'app';
export const appOrigin = 'app://reelpack';
export const appEntryUrl = `${appOrigin}/index.html`;

// The same policy as the browser host's, minus the WebSocket (IPC needs no network).
const csp = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: appScheme, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

export function serveAppProtocol(uiDir: string): void {
  const root = path.resolve(uiDir);
  protocol.handle(appScheme, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'reelpack') return new Response('not found', { status: 404 });
    const file = path.resolve(root, '.' + path.posix.normalize('/' + decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)));
    if (file !== root && !file.startsWith(root + path.sep)) return new Response('forbidden', { status: 403 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}
