// Listings that are malformed, enormous or endless — from a results API, an nginx JSON index
// and an HTML index: each ends in a clear error code (or a correct, bounded listing) within a
// bounded number of requests, and the CLI shows it without a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { listSource } from '../../electron/core/sources/list-source.ts';
import type { ReelpackError } from '../../electron/core/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/servers.ts';
import { startHostileServer } from '../servers/hostile-server.ts';
import type { ListingAnswer } from '../servers/hostile-server.ts';
import { record, stackTrace } from './reliability-kit.ts';

const MiB = 1024 * 1024;
const json = (body: unknown): ListingAnswer => ({ type: 'application/json', body: JSON.stringify(body) });
const html = (body: string): ListingAnswer => ({ type: 'text/html', body });
const page = (items: unknown[], extra: Record<string, unknown> = {}) => json({ items, page: 1, page_size: 100, total: items.length, ...extra });

/** A JSON array of `count` entries, generated in pieces (never held whole). */
function* enormousJsonIndex(count: number): Iterable<Buffer> {
  yield Buffer.from('[');
  const batch = 10_000;
  for (let i = 0; i < count; i += batch) {
    const parts: string[] = [];
    for (let k = i; k < Math.min(count, i + batch); k++) parts.push(`${k ? ',' : ''}{"name":"c${k}.mp4","type":"file","size":1}`);
    yield Buffer.from(parts.join(''));
  }
  yield Buffer.from(']');
}

/** An endless body: 1 MiB pieces of JSON-ish junk until the client hangs up (or 80 MiB, a hard stop). */
function* endless(): Iterable<Buffer> {
  const piece = Buffer.from(`{"items":[${'{"name":"x.mp4","url":"/f/0"},'.repeat(MiB / 32)}`.slice(0, MiB));
  for (let i = 0; i < 80; i++) yield piece;
}

interface Case {
  name: string;
  path: string;
  answer: (path: string, n: number) => ListingAnswer | undefined;
  /** An error code, or the number of items a correct listing has. */
  expect: string | number;
  message?: RegExp;
  maxRequests?: number;
  todo?: string;
}

const cases: Case[] = [
  // Results API
  { name: 'API: truncated JSON', path: '/api/results', answer: () => ({ type: 'application/json', body: '{"items":[{"id":"1","na' }), expect: 'BAD_LISTING', message: /JSON/ },
  { name: 'API: items is not an array', path: '/api/results', answer: () => json({ items: { a: 1 }, total: 1 }), expect: 'BAD_LISTING', message: /items/ },
  { name: 'API: total is a string', path: '/api/results', answer: () => json({ items: [], total: 'lots' }), expect: 'BAD_LISTING', message: /total/ },
  { name: 'API: total is negative', path: '/api/results', answer: () => json({ items: [], total: -5 }), expect: 'BAD_LISTING', message: /total/ },
  { name: 'API: JSON null', path: '/api/results', answer: () => json(null), expect: 'BAD_LISTING' },
  { name: 'API: items of every wrong type', path: '/api/results', answer: () => page([null, 7, 'x', [], { id: {} }, { name: 5, url: 6 }, { name: 'a.mp4', url: 'javascript:alert(1)' }, { name: 'b.mp4', url: 'http://[::1' }, { name: 'c.mp4', url: 'file:///etc/passwd' }, { name: 'd.mp4', url: '/f/0', size: 'big', sha256: 'zz' }, { name: 'e.mp4', url: '/f/1', size: -1 }, { name: 'f.mp4', url: '/f/2', size: 1e300 }]), expect: 4 }, // numbers are taken as text: "5" at "6"; d, e and f without a size
  { name: 'API: only unfinished results', path: '/api/results', answer: () => page([{ name: 'a.mp4', url: '/f/0', status: 'processing' }, { name: 'b.mp4', url: '/f/1', status: 'failed' }]), expect: 'EMPTY_LISTING', message: /skipped/ },
  { name: 'API: a JSON bomb of nesting', path: '/api/results', answer: () => ({ type: 'application/json', body: '['.repeat(200_000) + ']'.repeat(200_000) }), expect: 'BAD_LISTING' },
  { name: 'API: binary garbage', path: '/api/results', answer: () => ({ type: 'application/json', body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)) }), expect: 'BAD_LISTING' },
  { name: 'API: an endless page (> 64 MiB)', path: '/api/results', answer: () => ({ type: 'application/json', body: endless }), expect: 'BAD_LISTING', message: /larger than 64 MiB/ },
  {
    name: 'API: ignores ?page and repeats page 1 with a huge total', path: '/api/results', expect: 1, maxRequests: 10,
    answer: (_p, n) => (n > 300 ? page([], { total: 1e9 }) : page([{ id: 'a', name: 'a.mp4', url: '/f/0', size: 100 }], { total: 1e9 })),
  },
  // nginx JSON index
  { name: 'JSON index: truncated', path: '/json/', answer: () => ({ type: 'application/json', body: '[{"name":"a.mp4","type":"fi' }), expect: 'BAD_LISTING' },
  { name: 'JSON index: entries of wrong types', path: '/json/', answer: () => json([{ name: 1, type: 'file' }]), expect: 'EMPTY_LISTING' }, // not an index, so read as a URL list with no URL
  { name: 'JSON index: sockets and odd sizes are skipped or ignored', path: '/json/', answer: () => json([{ name: 'a.mp4', type: 'other' }, { name: 'b.mp4', type: 'file', size: 'x' }, { name: 'c.mp4', type: 'file', size: -3 }]), expect: 2 },
  { name: 'JSON index: over a million entries', path: '/json/', answer: () => ({ type: 'application/json', body: () => enormousJsonIndex(1_000_001) }), expect: 'BAD_LISTING', message: /more than 1000000 files/ },
  { name: 'JSON index: a folder that contains itself, forever', path: '/json/', answer: (p) => (p.startsWith('/json/') ? json([{ name: 'loop', type: 'directory' }, { name: 'a.mp4', type: 'file', size: 1 }]) : undefined), expect: 4, maxRequests: 6 },
  // HTML index
  { name: 'HTML: no links at all', path: '/html/', answer: () => html('<html><title>Index of /</title><body>nothing'), expect: 'BAD_LISTING', message: /no links/ },
  { name: 'HTML: only parent, sort, mailto and javascript links', path: '/html/', answer: () => html('<a href="../">up</a><a href="?C=N;O=D">sort</a><a href="mailto:x@y">m</a><a href="javascript:alert(1)">j</a><a href="#top">t</a>'), expect: 'EMPTY_LISTING' },
  { name: 'HTML: links to other hosts and schemes are not followed', path: '/html/', answer: () => html('<a href="http://127.0.0.2:1/evil.mp4">e</a><a href="ftp://x/y.mp4">f</a><a href="/elsewhere/z.mp4">z</a><a href="ok.mp4">ok</a>'), expect: 1 },
  { name: 'HTML: broken markup and entities', path: '/html/', answer: () => html('<a href=a&amp;b.mp4>1<a href=\'c%20d.mp4\'><a  HREF = "e&#x2F;..&#47;f.mp4"><a href="&#0;&#xFFFFFF;g.mp4"><a href="%ZZ.mp4"><a href'), expect: 5 }, // "&#0;…" keeps its "#": a fragment of "&"
  { name: 'HTML: 200,000 links', path: '/html/', answer: () => html(Array.from({ length: 200_000 }, (_, i) => `<a href="v${i}.mp4">v${i}</a>`).join('\n')), expect: 200_000 },
  { name: 'HTML: an endless page (> 64 MiB)', path: '/html/', answer: () => ({ type: 'text/html', body: endless }), expect: 'BAD_LISTING', message: /larger than 64 MiB/ },
  // Any listing
  { name: 'listing answers 500 forever', path: '/json/', answer: () => ({ status: 500, body: 'no' }), expect: 'HTTP_STATUS', maxRequests: 8 },
  { name: 'listing answers 429 with a Retry-After of a day', path: '/json/', answer: () => ({ status: 429, headers: { 'retry-after': '86400' }, body: 'later' }), expect: 'HTTP_STATUS', maxRequests: 2 },
  { name: 'listing answers 401', path: '/json/', answer: () => ({ status: 401, body: 'who?' }), expect: 'ACCESS_DENIED', message: /the server asks for an access token/ },
];

let hostileInputs = 0;
for (const c of cases) {
  test(`hostile listing — ${c.name}`, { todo: c.todo ?? false, timeout: 60_000 }, async () => {
    const server = await startHostileServer({ count: 3, size: 100, listing: (path, n) => (path.startsWith(c.path) || c.path.startsWith(path) ? c.answer(path, n) : undefined) });
    try {
      hostileInputs++;
      const source = c.path === '/api/results' ? server.url : server.url + c.path;
      const outcome = await listSource(source, { depth: 3, kind: c.path === '/api/results' ? 'api' : undefined }).then(
        (listing) => listing.items.length,
        (error: ReelpackError) => {
          assert.equal(typeof error.code, 'string', `not a ReelpackError: ${String(error)}`);
          if (c.message) assert.match(error.message, c.message);
          return error.code;
        },
      );
      assert.equal(outcome, c.expect);
      if (c.maxRequests) assert.ok(server.requests.listing <= c.maxRequests, `${server.requests.listing} listing requests`);
    } finally {
      await server.close();
    }
  });
}

test('hostile listing — results API pages that never end are capped like folder listings', {
  timeout: 60_000,
}, async () => {
  const per = 10_000;
  const server = await startHostileServer({
    count: 1, size: 100,
    listing: (path, n, url) => {
      if (path !== '/api/results') return undefined;
      const p = Number(url.searchParams.get('page'));
      if (n > 130) return json({ items: [], total: 1e12 }); // the server's own bound
      return json({ items: Array.from({ length: per }, (_, i) => ({ id: `${p}-${i}`, name: `p${p}/c${i}.mp4`, url: `/f/0?${p}-${i}`, size: 100 })), page: p, page_size: per, total: 1e12 });
    },
  });
  try {
    hostileInputs++;
    await assert.rejects(listSource(server.url, { depth: 1 }), (error: ReelpackError) => error.code === 'BAD_LISTING' && /more than/.test(error.message));
  } finally {
    await server.close();
  }
});

test('hostile listings through the CLI: exit 2, the error code in the JSON summary, no stack trace', async () => {
  const dir = await tempDir();
  const server = await startHostileServer({
    count: 2, size: 100,
    listing: (path) => (path === '/bad/' ? { type: 'application/json', body: '[{"name":' } : path === '/loop/' ? undefined : undefined),
  });
  try {
    for (const [source, code] of [[`${server.url}/bad/`, 'BAD_LISTING'], [`${server.url}/nothing-here/`, 'SOURCE_UNUSABLE'], [`${server.url}/loop/a`, 'BAD_REDIRECT']] as const) {
      hostileInputs++;
      const env = { REELPACK_HOME: join(dir.path, 'home') };
      const result = await runCli(['fetch', source, '--out', join(dir.path, 'out'), '--json'], env);
      assert.equal(result.summary?.error?.code, code, `${source}: ${result.stdout}`);
      assert.ok(result.code === 2 || result.code === 1, `${source}: exit ${result.code}`);
      const plain = await runCli(['fetch', source, '--out', join(dir.path, 'out')], env);
      assert.equal(plain.code, result.code);
      assert.match(plain.stderr, /error: .+/);
      assert.doesNotMatch(plain.stderr + result.stderr, stackTrace);
    }
  } finally {
    await server.close();
    await dir.remove();
  }
  record('hostile listings', { hostile: hostileInputs });
});
