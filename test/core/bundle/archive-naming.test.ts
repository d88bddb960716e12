// The default archive name: {host}_results_{yyyyMMdd_HHmm}, from whatever the source is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultArchiveBase } from '../../../electron/core/bundle/archive-naming.ts';

test('the default archive name says where the batch came from', () => {
  const at = new Date(2026, 10, 29, 9, 5);
  const cases: Array<[{ url: string; kind: string }, string]> = [
    [{ url: 'http://gpu-box:8080/api/results', kind: 'api' }, 'gpu-box_results_20261129_0905'],
    [{ url: '/home/op/batches/My clips/', kind: 'folder' }, 'My_clips_results_20261129_0905'],
    [{ url: '/home/op/take 7.mp4', kind: 'folder' }, 'take_7_results_20261129_0905'],
    [{ url: '/home/op/urls.txt', kind: 'list' }, 'urls_results_20261129_0905'],
    [{ url: 'http://10.0.0.5/lists/urls.txt', kind: 'list' }, '10.0.0.5_results_20261129_0905'],
  ];
  for (const [source, expected] of cases) assert.equal(defaultArchiveBase(source, at), expected, source.url);
});
