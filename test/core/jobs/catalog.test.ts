// The --only-new catalog: one per server however its address was typed, and catalogs written
// before that rule still count.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { catalogSource, loadCatalog, recordFetched } from '../../../electron/core/jobs/catalog.ts';
import { normalizeSource } from '../../../electron/core/sources/list-source.ts';

const entry = (id: string) => ({ id, size: 1, sha256: '0'.repeat(64), fetchedAt: '2026-11-29T00:00:00.000Z' });

test('a results API typed in different ways shares one catalog; other kinds keep their path and query', () => {
  const spellings = ['127.0.0.1:8765', 'http://127.0.0.1:8765/', 'http://localhost:8765/api/results?page=3', '[::1]:8765/api/results/'];
  const keys = new Set(spellings.map((s) => catalogSource(normalizeSource(s), 'api')));
  assert.equal(keys.size, 1, [...keys].join(' '));
  assert.notEqual(catalogSource('http://127.0.0.1:8765/', 'api'), catalogSource('http://127.0.0.1:8766/', 'api'));
  assert.notEqual(catalogSource('http://gpu-a:8765/', 'api'), catalogSource('http://gpu-b:8765/', 'api'));
  assert.notEqual(catalogSource('http://h/list.txt?day=1', 'list'), catalogSource('http://h/list.txt?day=2', 'list'));
  assert.equal(catalogSource('/data/results', 'folder'), '/data/results');
});

test('ids recorded under one spelling are found under another, and a catalog keyed the old way still counts', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'reelpack-catalog-'));
  try {
    await recordFetched(dir, 'http://127.0.0.1:8765/', 'api', [entry('a')]);
    // Written by a version that keyed the file by the listed source itself.
    const legacySource = 'http://127.0.0.1:8765/api/results?page=1';
    const legacyName = createHash('sha256').update(legacySource).digest('hex').slice(0, 24);
    await mkdir(path.join(dir, 'catalog'), { recursive: true });
    await writeFile(path.join(dir, 'catalog', `${legacyName}.ndjson`), JSON.stringify(entry('b')) + '\n{torn');
    assert.deepEqual([...(await loadCatalog(dir, legacySource, 'api'))].sort(), ['a', 'b']);
    assert.deepEqual([...(await loadCatalog(dir, 'http://localhost:8765/', 'api'))], ['a']);
    assert.equal((await loadCatalog(dir, 'http://127.0.0.1:9999/', 'api')).size, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
