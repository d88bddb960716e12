// The browser host: 127.0.0.1 only, the token guards every request (page, HTTP API and
// WebSocket), Host and Origin are checked, static files cannot escape, and it serves exactly
// the contract.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { commandNames, eventNames } from '../../electron/core/contract.ts';
import { startHost } from '../../electron/host/browser-host.ts';
import type { RunningHost } from '../../electron/host/browser-host.ts';

let tmp: string;
let host: RunningHost;
let base: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reelpack-host-'));
  const ui = path.join(tmp, 'ui');
  await mkdir(path.join(ui, 'assets'), { recursive: true });
  await writeFile(path.join(ui, 'index.html'), '<!doctype html><title>Reelpack</title>');
  await writeFile(path.join(ui, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(tmp, 'secret.txt'), 'secret');
  host = await startHost({ configDir: path.join(tmp, 'config'), uiDir: ui });
  base = `http://127.0.0.1:${host.port}`;
});
after(async () => {
  await host.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Raw request so Host and Origin can be set freely (fetch forbids them). */
function raw(pathname: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path: pathname, method, headers: { host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function cookie(): string {
  return `reelpack_${host.port}=${host.token}`;
}

test('prints http://127.0.0.1:<port>/?token=<random> and listens on loopback only', () => {
  assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{40,}$/);
});

test('requests without the token are refused; the token is traded for a cookie', async () => {
  assert.equal((await raw('/')).status, 403);
  assert.equal((await raw('/assets/app.js')).status, 403);
  assert.equal((await raw('/?token=wrong')).status, 403);
  const first = await raw(`/?token=${host.token}`);
  assert.equal(first.status, 303);
  assert.equal(first.headers.location, '/');
  assert.match(String(first.headers['set-cookie']), new RegExp(`reelpack_${host.port}=.+; HttpOnly; SameSite=Strict`));
  const page = await raw('/', { cookie: cookie() });
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>Reelpack/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
});

test('a foreign Host header (DNS rebinding) or Origin is refused even with the token', async () => {
  assert.equal((await raw('/', { cookie: cookie(), host: 'evil.example:80' })).status, 421);
  assert.equal((await raw('/api/getSettings', { cookie: cookie(), origin: 'http://evil.example', 'content-type': 'application/json' }, 'POST', '{}')).status, 403);
});

test('static files never escape the UI folder', async () => {
  for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
    const res = await raw(p, { cookie: cookie() });
    assert.doesNotMatch(res.body, /secret/, p);
  }
  assert.equal((await raw('/assets/missing.js', { cookie: cookie() })).status, 404);
});

test('the HTTP API runs contract commands (JSON only) and serves the contract list', async () => {
  const auth = { authorization: `Bearer ${host.token}` };
  const list = await fetch(`${base}/api/contract`, { headers: auth });
  assert.deepEqual(await list.json(), { commands: [...commandNames], events: [...eventNames] });
  const settings = await fetch(`${base}/api/getSettings`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  const reply = (await settings.json()) as { ok: boolean; value: { recentServers: unknown[] } };
  assert.equal(reply.ok, true);
  assert.deepEqual(reply.value.recentServers, []);
  const unknown = await fetch(`${base}/api/formatDisk`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'UNKNOWN_COMMAND');
  // A cross-site form could send text/plain without a preflight: refused.
  assert.equal((await raw('/api/getSettings', { cookie: cookie(), 'content-type': 'text/plain' }, 'POST', '{}')).status, 405);
});

function openSocket(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

test('the WebSocket needs the token and our own origin, then speaks the contract', async () => {
  await assert.rejects(openSocket(`ws://127.0.0.1:${host.port}/ws`, {}), /403/);
  await assert.rejects(openSocket(`ws://127.0.0.1:${host.port}/ws`, { cookie: cookie(), origin: 'http://evil.example' }), /403/);
  const ws = await openSocket(`ws://127.0.0.1:${host.port}/ws`, { cookie: cookie(), origin: base });
  const replies = new Map<number, unknown>();
  const got = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id: number; reply: unknown };
      replies.set(m.id, m.reply);
      if (replies.size === 2) resolve();
    });
  });
  ws.send(JSON.stringify({ id: 1, command: 'getAppInfo', args: {} }));
  ws.send(JSON.stringify({ id: 2, command: '__proto__', args: {} }));
  await got;
  const info = replies.get(1) as { ok: boolean; value: { shell: string; canBrowse: boolean } };
  assert.equal(info.value.shell, 'browser');
  assert.equal(info.value.canBrowse, false);
  assert.equal((replies.get(2) as { error: { code: string } }).error.code, 'UNKNOWN_COMMAND');
  ws.close();
});
