// Sizes as people type them (--volume-size 3m) and as Reelpack writes them back in messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactBytes, formatBytes, formatSizeOption, parseSize } from '../../electron/core/units.ts';

test('a size is written back the way it can be typed again', () => {
  for (const typed of ['3m', '2g', '64k', '1t', '4000m', '1536k']) assert.equal(formatSizeOption(parseSize(typed)), typed);
  assert.equal(formatSizeOption(parseSize('1.5g')), '1536m');
  assert.equal(formatSizeOption(1500), '1,500 bytes');
  assert.equal(parseSize('1500'), 1500);
});

test('exact byte counts are grouped, so two sizes that round alike can be told apart', () => {
  assert.equal(exactBytes(3_145_728), '3,145,728 bytes');
  assert.equal(exactBytes(1), '1 byte');
});

test('sizes are shown in binary units, as the app and --volume-size count them', () => {
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(parseSize('3m')), '3.0 MB');
  assert.equal(formatBytes(parseSize('1.5g')), '1.5 GB');
});
