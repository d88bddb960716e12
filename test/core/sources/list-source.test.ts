import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../../electron/core/download/http-client.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listSource } from '../../../electron/core/sources/list-source.ts';
import type { ReelpackError } from '../../../electron/core/errors.ts';
import { startDemoServer } from '../../servers/demo-server.ts';
import { startSlowListingServer } from '../../servers/slow-listing-server.ts';
import { startNginx, startPythonHttpServer, tempDir } from '../../helpers/servers.ts';

const opts = { depth: 3 };

async function rejectsWith(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: ReelpackError) => {
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

test('a listing stopped through its signal ends at once as CANCELLED, even while the server trickles', async () => {
  const slowList = await startSlowListingServer({ pageSize: 3, total: 3, pageDelayMs: 0 });
  try {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 400);
    const started = Date.now();
    await rejectsWith(listSource(slowList.trickleUrl, { ...opts, signal: stop.signal }), 'CANCELLED', /listing stopped/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  } finally {
    await slowList.close();
  }
});

/** A server answering fixed bodies per path, for malformed listings. */
async function fixedServer(routes: Record<string, { status?: number; type: string; body: string | Buffer; headers?: Record<string, string> }>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (!route) return void res.writeHead(404).end('no');
    res.writeHead(route.status ?? 200, { 'content-type': route.type, ...route.headers }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

describe('results API', () => {
  test('follows every page even when the server caps page_size, skipping unfinished results', async () => {
    const demo = await startDemoServer({ count: 23, size: 1000, maxPageSize: 7, processingEvery: 5 });
    try {
      const progress: unknown[] = [];
      const listing = await listSource(demo.url, { ...opts, onProgress: (p) => progress.push(p) });
      assert.equal(listing.kind, 'api');
      // One count per page read, of the results read (ready or not) against the server's total.
      assert.deepEqual(progress, [7, 14, 21, 23].map((found) => ({ found, total: 23 })));
      assert.equal(listing.items.length, 19);
      assert.equal(new Set(listing.items.map((i) => i.id)).size, 19);
      assert.deepEqual(listing.skipped.map((s) => s.reason), Array(4).fill('status is "processing"'));
      const first = listing.items[0]!;
      assert.equal(first.url, `${demo.url}/outputs/result_0001.mp4`);
      assert.equal(first.sha256, demo.files[0]!.sha256);
      assert.equal(first.size, 1000);
      assert.deepEqual(first.params, demo.files[0]!.params);
    } finally {
      await demo.close();
    }
  });

  test('results sharing an id (one task, several outputs) are each kept; a count short of "total" is reported', async () => {
    const items = [
      { id: 'task-1', name: 'a.mp4', url: '/f/a.mp4', size: 1 },
      { id: 'task-1', name: 'b.mp4', url: '/f/b.mp4', size: 1 },
      { id: 'task-1', name: 'c.mp4', url: '/f/c.mp4', size: 1 },
      { id: 'task-1', name: 'a.mp4', url: '/f/a.mp4', size: 1 }, // the same result again (pages shifted)
      { id: 'task-1', name: 'a.mp4', url: '/f/a.mp4?sig=2', size: 1 }, // again, with a fresh signature
    ];
    const { url, server } = await fixedServer({ '/api/results': { type: 'application/json', body: JSON.stringify({ items, page: 1, page_size: 100, total: 10 }) } });
    try {
      const listing = await listSource(url, opts);
      assert.deepEqual(listing.items.map((i) => i.name), ['a.mp4', 'b.mp4', 'c.mp4']);
      assert.equal(new Set(listing.items.map((i) => i.id)).size, 3, 'distinct ids');
      assert.equal(listing.items[0]!.id, 'task-1', 'the first keeps its id (the catalog knows it by that)');
      assert.equal(listing.items[1]!.id, 'task-1|/f/b.mp4', 'the others by id and path: the same on every listing, signed or not');
      assert.deepEqual(listing.skipped, []);
      assert.deepEqual(listing.warnings, ['the server reports 10 results but its pages listed 5: 5 are missing from the listing']);
    } finally {
      server.close();
    }
  });

  test('a listed sha256 with a "sha256:" prefix or in upper case is used; one that is not a SHA-256 is reported, not silently dropped', async () => {
    const hex = 'ab'.repeat(32);
    const items = [
      { id: '1', name: 'prefixed.mp4', url: '/f/1', sha256: `sha256:${hex.toUpperCase()}` },
      { id: '2', name: 'short.mp4', url: '/f/2', sha256: 'abc123' },
      { id: '3', name: 'none.mp4', url: '/f/3' },
    ];
    const { url, server } = await fixedServer({ '/api/results': { type: 'application/json', body: JSON.stringify({ items, total: 3 }) } });
    try {
      const listing = await listSource(url, opts);
      assert.deepEqual(listing.items.map((i) => i.sha256), [hex, undefined, undefined]);
      assert.deepEqual(listing.warnings, ['short.mp4: the listed sha256 "abc123" is not a SHA-256; the file is fetched without that check (its own SHA-256 is still recorded)']);
    } finally {
      server.close();
    }
  });

  test('an item whose URL has a malformed %-escape or does not parse is kept or skipped alone, never failing the listing', async () => {
    const items = [
      { id: '1', url: '/f/a%zz.mp4' }, // no name: taken from the URL, as it is
      { id: '2', url: 'http://[bad/b.mp4' },
      { id: '3', url: '/f/%E8%A7%86%E9%A2%91.mp4' },
    ];
    const { url, server } = await fixedServer({ '/api/results': { type: 'application/json', body: JSON.stringify({ items, total: 3 }) } });
    try {
      const listing = await listSource(url, opts);
      assert.deepEqual(listing.items.map((i) => i.name), ['a%zz.mp4', '视频.mp4']);
      assert.deepEqual(listing.skipped, [{ name: 'http://[bad/b.mp4', reason: 'bad url "http://[bad/b.mp4"' }]);
    } finally {
      server.close();
    }
  });

  test('https:// to a server that speaks plain http says so, instead of an OpenSSL dump', async () => {
    const demo = await startDemoServer({ count: 1, size: 10 });
    try {
      await rejectsWith(listSource(demo.url.replace('http:', 'https:'), opts), 'SOURCE_UNUSABLE', /the server does not speak https there \(try http:\/\/\)/);
    } finally {
      await demo.close();
    }
  });

  test('accepts the API endpoint itself as the source, with a token', async () => {
    const demo = await startDemoServer({ count: 3, size: 10, token: 's3cret' });
    try {
      // Refused: without a token it says one is asked for; with a wrong one, that it was refused.
      await rejectsWith(listSource(`${demo.url}/api/results`, opts), 'ACCESS_DENIED', /401.*: the server asks for an access token$/);
      await rejectsWith(listSource(demo.url, { ...opts, token: 'wrong' }), 'ACCESS_DENIED', /: the server refused the access token given$/);
      const listing = await listSource(`${demo.url}/api/results`, { ...opts, token: 's3cret' });
      assert.equal(listing.items.length, 3);
    } finally {
      await demo.close();
    }
  });
});

describe('HTTP folder listings', () => {
  let root: { path: string; remove(): Promise<void> };
  before(async () => {
    root = await tempDir();
    await mkdir(join(root.path, 'batch 1', 'deep', 'deeper'), { recursive: true });
    await writeFile(join(root.path, 'a.mp4'), 'aaaa');
    await writeFile(join(root.path, 'batch 1', 'b & c.mp4'), 'bbbbbb');
    await writeFile(join(root.path, 'batch 1', 'deep', 'd.mp4'), 'd');
    await writeFile(join(root.path, 'batch 1', 'deep', 'deeper', 'e.mp4'), 'e');
  });
  after(() => root.remove());

  const expectTree = (names: string[], depth: number) => {
    const all = ['a.mp4', 'batch 1/b & c.mp4', 'batch 1/deep/d.mp4', 'batch 1/deep/deeper/e.mp4'];
    assert.deepEqual([...names].sort(), all.filter((n) => n.split('/').length - 1 <= depth));
  };

  for (const json of [false, true]) {
    test(`nginx autoindex ${json ? 'JSON' : 'HTML'}, recursive to --depth`, async () => {
      const nginx = await startNginx(root.path, { json });
      try {
        const full = await listSource(nginx.url, opts);
        assert.equal(full.kind, 'index');
        expectTree(full.items.map((i) => i.name), 3);
        // nginx gives exact sizes in both forms (HTML: autoindex_exact_size is on by default).
        assert.equal(full.items.find((i) => i.name === 'a.mp4')?.size, 4);
        assert.equal(full.items.find((i) => i.name === 'batch 1/b & c.mp4')?.size, 6);
        const shallow = await listSource(nginx.url, { depth: 1 });
        expectTree(shallow.items.map((i) => i.name), 1);
        assert.ok(shallow.skipped.some((s) => s.name === 'batch 1/deep/'), JSON.stringify(shallow.skipped));
      } finally {
        await nginx.close();
      }
    });
  }

  test('python3 -m http.server listing', async () => {
    const py = await startPythonHttpServer(root.path);
    try {
      const listing = await listSource(py.url, opts);
      assert.equal(listing.kind, 'index');
      expectTree(listing.items.map((i) => i.name), 3);
    } finally {
      await py.close();
    }
  });

  test('Apache-style listing: sort links, parent link and icon links are ignored', async () => {
    const html = `<html><head><title>Index of /v</title></head><body><h1>Index of /v</h1><table>
      <tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
      <tr><td><a href="/">Parent Directory</a></td></tr>
      <tr><td><a href="x.mp4"><img src="/icons/movie.gif"></a></td><td><a href="x.mp4">x.mp4</a></td><td>1.2M</td></tr>
      <tr><td><a href="http://elsewhere.invalid/y.mp4">y</a></td></tr></table></body></html>`;
    const { url, server } = await fixedServer({ '/v/': { type: 'text/html', body: html } });
    try {
      const listing = await listSource(`${url}/v/`, { ...opts, kind: 'index' });
      assert.deepEqual(listing.items.map((i) => i.name), ['x.mp4']);
    } finally {
      server.close();
    }
  });
});

describe('URL lists and local folders', () => {
  test('a local text list with comments and blank lines, in UTF-8 or UTF-16', async () => {
    const dir = await tempDir();
    try {
      const file = join(dir.path, 'urls.txt');
      await writeFile(file, '# my batch\nhttp://127.0.0.1:9/a/one.mp4\n\n  https://127.0.0.1:9/two%20words.mp4  \nnot a url\n');
      const listing = await listSource(file, opts);
      assert.equal(listing.kind, 'list');
      assert.deepEqual(listing.items.map((i) => i.name), ['one.mp4', 'two words.mp4']);
      assert.equal(listing.skipped.length, 1);
      // Saved by Windows PowerShell (`> urls.txt`: UTF-16 with a BOM), big-endian, or UTF-8 with a BOM, a
      // list (even without a .txt name, where its NUL bytes looked like a video) reads the same.
      const text = 'http://127.0.0.1:9/a/one.mp4\r\nhttp://127.0.0.1:9/b/clip.mp4\r\n';
      const encodings: Array<[string, Buffer]> = [
        ['utf16le', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
        ['utf16be', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
        ['utf8-bom', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
      ];
      for (const [encoding, bytes] of encodings) {
        const named = join(dir.path, `batch-${encoding}`);
        await writeFile(named, bytes);
        const decoded = await listSource(named, opts);
        assert.equal(decoded.kind, 'list', encoding);
        assert.deepEqual(decoded.items.map((i) => i.url), ['http://127.0.0.1:9/a/one.mp4', 'http://127.0.0.1:9/b/clip.mp4'], encoding);
      }
    } finally {
      await dir.remove();
    }
  });

  test('a remote URL list in UTF-16 (a BOM, NUL bytes) is read as a list, not taken for a file', async () => {
    const text = 'http://127.0.0.1:9/a/one.mp4\r\nhttp://127.0.0.1:9/b/two.mp4\r\n';
    const { url, server } = await fixedServer({
      '/urls.txt': { type: 'text/plain', body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) },
    });
    try {
      const listing = await listSource(`${url}/urls.txt`, opts);
      assert.equal(listing.kind, 'list');
      assert.deepEqual(listing.items.map((i) => i.name), ['one.mp4', 'two.mp4']);
    } finally {
      server.close();
    }
  });

  test('a remote JSON list of objects, relative URLs resolved against the list', async () => {
    const body = JSON.stringify([{ url: 'clips/a.mp4', name: 'first.mp4', size: 5 }, 'b.mp4']);
    const { url, server } = await fixedServer({ '/lists/batch.json': { type: 'application/json', body } });
    try {
      const listing = await listSource(`${url}/lists/batch.json`, opts);
      assert.equal(listing.kind, 'list');
      assert.deepEqual(listing.items.map((i) => [i.name, i.url]), [['first.mp4', `${url}/lists/clips/a.mp4`], ['b.mp4', `${url}/lists/b.mp4`]]);
    } finally {
      server.close();
    }
  });

  test('a URL that is itself a video is a list of one, named by the URL or Content-Disposition', async () => {
    const root = await tempDir();
    const nginx = await startNginx(root.path);
    const named = await fixedServer({
      '/download': { type: 'application/zip', body: 'zip bytes', headers: { 'content-length': '9', 'content-disposition': `attachment; filename="fallback.zip"; filename*=UTF-8''%E7%BB%93%E6%9E%9C%201.zip` } },
      '/plain': { type: 'application/octet-stream; charset=binary', body: 'x\0z', headers: { 'content-disposition': 'attachment; filename="a \\"b\\".mov"' } },
      '/urls.txt': { type: 'text/plain; charset=utf-8', body: 'http://127.0.0.1:9/x.mp4\n' },
      '/list.bin': { type: 'application/octet-stream', body: '["http://127.0.0.1:9/y.mp4"]' },
      // A video served with the wrong type (nginx without mime.types says text/plain).
      '/mislabelled.mp4': { type: 'text/plain', body: '\0\0\0\x20ftypisom', headers: { 'content-length': '12' } },
    });
    try {
      await writeFile(join(root.path, 'clip 1.mp4'), Buffer.alloc(70_000, 7));
      const video = await listSource(`${nginx.url}/clip%201.mp4`, opts);
      assert.equal(video.kind, 'list');
      assert.deepEqual(video.items, [{ id: `${nginx.url}/clip%201.mp4`, name: 'clip 1.mp4', url: `${nginx.url}/clip%201.mp4`, size: 70_000 }]);
      const download = await listSource(`${named.url}/download`, opts);
      assert.deepEqual(download.items.map((i) => [i.name, i.size]), [['结果 1.zip', 9]]);
      const quoted = await listSource(`${named.url}/plain`, opts);
      assert.deepEqual(quoted.items.map((i) => i.name), ['a "b".mov']);
      const mislabelled = await listSource(`${named.url}/mislabelled.mp4`, opts);
      assert.deepEqual(mislabelled.items.map((i) => [i.name, i.size]), [['mislabelled.mp4', 12]]);
      // Text is still read as a URL list, and a forced kind still reads the body.
      const list = await listSource(`${named.url}/urls.txt`, opts);
      assert.deepEqual(list.items.map((i) => i.name), ['x.mp4']);
      const untypedList = await listSource(`${named.url}/list.bin`, opts);
      assert.deepEqual(untypedList.items.map((i) => i.name), ['y.mp4']);
      await rejectsWith(listSource(`${nginx.url}/clip%201.mp4`, { ...opts, kind: 'index' }), 'BAD_LISTING');
    } finally {
      await nginx.close();
      named.server.close();
      await root.remove();
    }
  });

  test('a local video file is a folder of one; a local text file is a URL list', async () => {
    const dir = await tempDir();
    try {
      const video = join(dir.path, 'take 2.mp4');
      await writeFile(video, Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(100, 1)]));
      const listing = await listSource(video, opts);
      assert.equal(listing.kind, 'folder');
      assert.deepEqual(listing.items.map((i) => [i.name, i.url, i.size]), [['take 2.mp4', video, 112]]);
      await rejectsWith(listSource(video, { ...opts, kind: 'list' }), 'BAD_LISTING');
    } finally {
      await dir.remove();
    }
  });

  test('a local folder, recursively, without following symlinks, without the files operating systems leave in folders', async () => {
    const dir = await tempDir();
    try {
      await mkdir(join(dir.path, 'sub'));
      await writeFile(join(dir.path, 'a.mp4'), 'a');
      await writeFile(join(dir.path, 'sub', 'b.mp4'), 'bb');
      // What Finder, Explorer and a drive root leave behind is not a result.
      for (const name of ['.DS_Store', '._a.mp4', 'Thumbs.db', 'desktop.ini', 'sub/.DS_Store']) await writeFile(join(dir.path, name), 'x');
      await mkdir(join(dir.path, '$RECYCLE.BIN', 'S-1-5-21'), { recursive: true });
      await writeFile(join(dir.path, '$RECYCLE.BIN', 'S-1-5-21', '$Rdeleted.mp4'), 'deleted');
      const listing = await listSource(dir.path, opts);
      assert.equal(listing.kind, 'folder');
      assert.deepEqual(listing.items.map((i) => [i.name, i.size]), [['a.mp4', 1], ['sub/b.mp4', 2]]);
      assert.deepEqual(listing.skipped, []);
    } finally {
      await dir.remove();
    }
  });
});

describe('bad listings are clear errors', () => {
  test('malformed, not-a-listing, empty and unreachable sources', async () => {
    const { url, server } = await fixedServer({
      '/api/results': { type: 'application/json', body: '{"items": [' },
      '/empty/': { type: 'text/html', body: '<html><title>Index of /empty/</title><a href="../">../</a></html>' },
      '/page': { type: 'text/html', body: '<html><body>Welcome!</body></html>' },
      '/weird.json': { type: 'application/json', body: '{"hello": "world"}' },
    });
    const dir = await tempDir();
    try {
      await rejectsWith(listSource(url, { ...opts, kind: 'api' }), 'BAD_LISTING', /not return JSON/);
      await rejectsWith(listSource(`${url}/empty/`, opts), 'EMPTY_LISTING', /no downloadable files/);
      await rejectsWith(listSource(`${url}/page`, opts), 'BAD_LISTING', /no links/);
      await rejectsWith(listSource(`${url}/weird.json`, opts), 'BAD_LISTING', /"files" array/);
      await rejectsWith(listSource(`${url}/missing/`, opts), 'SOURCE_UNUSABLE', /404/);
      await rejectsWith(listSource(dir.path, opts), 'EMPTY_LISTING');
      await rejectsWith(listSource(join(dir.path, 'nope'), opts), 'SOURCE_UNUSABLE', /no such file/);
      await rejectsWith(listSource('ftp://example.invalid/x', opts), 'USAGE', /scheme/);
      await rejectsWith(listSource('http://127.0.0.1:9/', opts), 'SOURCE_UNUSABLE', /^cannot reach the server \(ECONNREFUSED\): http:\/\/127\.0\.0\.1:9\/$/);
      // A server that takes the connection and never answers is not "unreachable".
      const silent = createNetServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const http = new HttpClient({ stallTimeoutMs: 300 });
      try {
        await rejectsWith(listSource(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, opts, http), 'SOURCE_UNUSABLE', /^the server took the connection but sent no answer: /);
      } finally {
        await http.close();
        silent.close();
      }
    } finally {
      server.close();
      await dir.remove();
    }
  });
});
