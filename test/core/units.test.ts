// Sizes as people type them (--volume-size 3m) and as Reelpack writes them back in messages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactBytes, formatSizeOption, parseSize } from '../../electron/core/units.ts';

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
