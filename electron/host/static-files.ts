// Serves the built UI (dist/ui) safely: no path escapes the folder, a strict CSP on every page.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** The same policy the Electron shell sends: only our own scripts and styles, WebSocket back to us. */
export function contentSecurityPolicy(connectSrc: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connectSrc}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/** Resolves a URL path inside `root`, or null when it would escape it. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  return full === root || full.startsWith(root + path.sep) ? full : null;
}

export async function serveStatic(root: string, urlPath: string, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  let file = resolveInside(root, urlPath === '/' ? '/index.html' : urlPath);
  let info = file ? await stat(file).catch(() => null) : null;
  if (!info?.isFile()) {
    // Unknown paths without an extension are app routes: serve the page.
    if (path.extname(urlPath) !== '') {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    file = path.join(root, 'index.html');
    info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      res.writeHead(503, { ...headers, 'Content-Type': 'text/plain' }).end('the UI is not built: run "npm run build:ui"');
      return;
    }
  }
  const ext = path.extname(file!);
  res.writeHead(200, {
    ...headers,
    'Content-Type': contentTypes[ext] ?? 'application/octet-stream',
    'Content-Length': String(info.size),
    // Vite names assets by content hash; the page itself must always be fresh.
    'Cache-Control': ext === '.html' ? 'no-store' : 'private, max-age=31536000, immutable',
  });
  createReadStream(file!).pipe(res);
}
