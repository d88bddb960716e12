// Hostile names in every kind of listing (results API, nginx JSON index, HTML index):
// nothing is written outside the destination, every archive entry is a safe relative path,
// and every listed result still maps to its own distinct file, loose and zipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../helpers/servers.ts';
import { hostileNames, startHostileServer } from '../servers/hostile-server.ts';
import { archiveEntries, checkArchive, extractAll, isSafeRelative, listTree, readTree, record, runCliIn, stackTrace } from './reliability-kit.ts';

const foldKey = (path: string) => path.normalize('NFC').toLowerCase();

for (const [kind, path] of [['results API', ''], ['nginx JSON index', '/json/'], ['HTML index', '/html/']] as const) {
  test(`hostile names from a ${kind}: nothing outside the destination, safe and distinct entries`, async () => {
    const server = await startHostileServer({ count: hostileNames.length, size: (i) => 2000 + i, nameOf: (i) => hostileNames[i]! });
    const dir = await tempDir('reelpack-hostile-');
    try {
      // parent/ holds the destination and the working folder: a snapshot of it catches any escape.
      const parent = join(dir.path, 'parent');
      const cwd = join(parent, 'cwd');
      await mkdir(cwd, { recursive: true });
      const before = await listTree(parent);
      const dest = join(parent, 'dest');
      const result = await runCliIn(cwd, ['fetch', server.url + path, '--out', dest, '--mode', 'both', '--zip', 'all.zip', '--json'], { REELPACK_HOME: join(dir.path, 'home') });
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, stackTrace);

      // Nothing outside dest: the parent holds exactly what it held, plus dest itself.
      const after = (await listTree(parent)).filter((p) => p !== 'dest/' && !p.startsWith('dest/'));
      assert.deepEqual(after, before, 'something was written outside the destination');
      for (const outside of ['/etc/x.mp4', '/x.mp4', '/escape.mp4', join(dir.path, 'x.mp4'), join(dir.path, 'escape.mp4')]) {
        assert.ok(!existsSync(outside), `${outside} was written`);
      }

      // Every listed result is a distinct file with its own bytes.
      const listed = result.events.find((e) => e.type === 'listed');
      assert.ok(listed?.type === 'listed');
      const expected = path === '' ? hostileNames.length : new Set(server.names.filter((n) => !['..', '.', ''].includes(n))).size;
      assert.equal(listed.files, expected, 'listed results');
      const bySha = new Map(server.files.map((f, i) => [f.sha256, i]));
      const loose = await readTree(dest, (rel) => rel.startsWith('.reelpack/') || rel === 'all.zip');
      assert.equal(loose.size, expected, `loose files: ${[...loose.keys()].join(' | ')}`);
      const matched = new Set<number>();
      for (const [rel, data] of loose) {
        assert.ok(isSafeRelative(rel), `unsafe loose path ${JSON.stringify(rel)}`);
        const source = server.files.findIndex((f) => f.data.equals(data));
        assert.ok(source >= 0, `${JSON.stringify(rel)} matches no source file`);
        matched.add(source);
      }
      assert.equal(matched.size, expected, 'two names were written to the same file');

      const zip = join(dest, 'all.zip');
      await checkArchive(zip);
      const entries = await archiveEntries(zip);
      assert.equal(entries.length, expected + 2, 'one entry per result, plus manifest.json and SHA256SUMS');
      for (const name of entries) assert.ok(isSafeRelative(name), `unsafe entry ${JSON.stringify(name)}`);
      assert.equal(new Set(entries.map(foldKey)).size, entries.length, 'entries collide on a case-insensitive or NFC file system');
      const extracted = await extractAll(zip, join(dir.path, 'x'));
      const zipped = [...extracted].filter(([rel]) => rel !== 'manifest.json' && rel !== 'SHA256SUMS');
      assert.equal(new Set(zipped.map(([, data]) => bySha.get(sha(data)))).size, expected, 'entries map to distinct sources');
      record(`hostile names ${kind}`, { hostile: server.names.length, files: expected, archives: 1, lost: expected - matched.size, corrupt: 0 });
    } finally {
      await server.close();
      await dir.remove();
    }
  });
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

test('a name with a lone surrogate (invalid UTF-16 in the JSON) is archived under a safe name, not refused forever', async () => {
  const body = Buffer.from('lone surrogate');
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/results')) {
      // JSON.stringify writes the lone surrogate as the escape "\ud800", as a server might.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [{ id: '1', name: 'x\ud800y.mp4', url: '/f/1', size: body.length }], total: 1 }));
    } else res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dir = await tempDir('reelpack-hostile-');
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const dest = join(dir.path, 'dest');
    const result = await runCliIn(dir.path, ['fetch', url, '--out', dest, '--mode', 'both', '--zip', 'all.zip', '--json'], { REELPACK_HOME: join(dir.path, 'home') });
    assert.equal(result.code, 0, result.stderr);
    await checkArchive(join(dest, 'all.zip'));
    assert.deepEqual((await archiveEntries(join(dest, 'all.zip'))).filter((n) => n.endsWith('.mp4')), ['x_y.mp4']);
    assert.ok((await readFile(join(dest, 'x_y.mp4'))).equals(body));
  } finally {
    server.close();
    await dir.remove();
  }
});
