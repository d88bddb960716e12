import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collisionKey, safeRelativePath, UniquePathAllocator, withSuffix } from '../../../electron/core/names/safe-path.ts';

test('hostile names become safe relative paths', () => {
  const cases: Array<[string, string]> = [
    ['../../etc/passwd', 'etc/passwd'],
    ['/etc/x.mp4', 'etc/x.mp4'],
    ['a\\..\\b.mp4', 'a/b.mp4'],
    ['C:\\x.mp4', 'x.mp4'],
    ['CON.mp4', '_CON.mp4'],
    ['sub/nul', 'sub/_nul'],
    ['con .txt', '_con .txt'],
    ['Aux  .tar.gz', '_Aux  .tar.gz'],
    ['console.mp4', 'console.mp4'],
    ['clip.mp4. . ', 'clip.mp4'],
    ['bad\u0000name\u0007.mp4', 'bad_name_.mp4'],
    ['what?.mp4', 'what_.mp4'],
    ['..', 'file'],
    ['', 'file'],
    ['./a/./b.mp4', 'a/b.mp4'],
    ['x\ud800y.mp4', 'x_y.mp4'], // a lone surrogate: not writable as UTF-8
    ['clip\u202egpj.exe', 'clip_gpj.exe'], // right-to-left override
    ['a\u2066b\u2069\u200fc.mp4', 'a_b__c.mp4'], // isolates, right-to-left mark
    ['c1\u009bx\u0085.mp4', 'c1_x_.mp4'], // C1 controls
    ['zero\u200bwidth\ufeff.mp4', 'zero_width_.mp4'],
    ['line\u2028break.mp4', 'line_break.mp4'],
    ['family \u{1F468}\u200d\u{1F469}.mp4', 'family \u{1F468}\u200d\u{1F469}.mp4'], // the joiner emoji need stays
  ];
  for (const [input, expected] of cases) assert.equal(safeRelativePath(input), expected, JSON.stringify(input));
});

test('NFD names are normalised to NFC', () => {
  const nfd = 'Cafe\u0301.mp4';
  assert.equal(safeRelativePath(nfd), 'Caf\u00e9.mp4');
});

test('long names are cut to 200 bytes keeping the extension', () => {
  const long = `${'é'.repeat(300)}.mp4`;
  const safe = safeRelativePath(long);
  assert.ok(Buffer.byteLength(safe) <= 200, `${Buffer.byteLength(safe)} bytes`);
  assert.ok(safe.endsWith('.mp4'));
});

test('duplicates, case twins and NFD twins get distinct names', () => {
  const alloc = new UniquePathAllocator();
  alloc.reserve('manifest.json');
  assert.equal(alloc.allocate('clip.mp4'), 'clip.mp4');
  assert.equal(alloc.allocate('clip.mp4'), 'clip (2).mp4');
  assert.equal(alloc.allocate('CLIP.mp4'), 'CLIP (3).mp4');
  assert.equal(alloc.allocate('Manifest.JSON'), 'Manifest (2).JSON');
  assert.equal(alloc.allocate('Cafe\u0301.mp4'), 'Caf\u00e9.mp4');
  assert.equal(alloc.allocate('Caf\u00e9.mp4'), 'Caf\u00e9 (2).mp4');
  // One capital for two small sigmas: NTFS treats these as the same name.
  assert.equal(alloc.allocate('\u03b1\u03c2.mp4'), '\u03b1\u03c2.mp4');
  assert.equal(alloc.allocate('\u03b1\u03c3.mp4'), '\u03b1\u03c3 (2).mp4');
  // …but no full case folding: ß is not ss on any file system.
  assert.equal(alloc.allocate('Stra\u00dfe.mp4'), 'Stra\u00dfe.mp4');
  assert.equal(alloc.allocate('Strasse.mp4'), 'Strasse.mp4');
});

test('a file and a folder never share a name', () => {
  const alloc = new UniquePathAllocator();
  assert.equal(alloc.allocate('a'), 'a');
  assert.equal(alloc.allocate('a/b.mp4'), 'a (2)/b.mp4');
  assert.equal(alloc.allocate('x/y.mp4'), 'x/y.mp4');
  assert.equal(alloc.allocate('x'), 'x (2)');
});

// Many results often share one name (URL lists ending in /download, servers that call every
// result output.mp4). Each number is tried once in all, not once per file: 20 000 took 48 s
// when every file tried " (2)", " (3)"… again. The timeout is 200× what it takes now.
test('20 000 files of one name get " (2)" … " (20000)" in order, skipping numbers already taken', { timeout: 10_000 }, () => {
  const paths = new UniquePathAllocator();
  paths.reserve('output (5).mp4');
  const names = Array.from({ length: 20_000 }, () => paths.allocate('output.mp4'));
  assert.equal(names[0], 'output.mp4');
  assert.equal(names[1], 'output (2).mp4');
  assert.equal(names[3], 'output (4).mp4');
  assert.equal(names[4], 'output (6).mp4', 'the reserved name is skipped');
  assert.equal(names.at(-1), 'output (20001).mp4');
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, names.length);
});

test('files of a folder whose name a file took stay together in one renamed folder', () => {
  const paths = new UniquePathAllocator();
  assert.equal(paths.allocate('Season'), 'Season');
  assert.equal(paths.allocate('Season/ep1.mp4'), 'Season (2)/ep1.mp4');
  assert.equal(paths.allocate('Season/ep2.mp4'), 'Season (2)/ep2.mp4');
});

test('a long name that needs a number, or is cut at a space or dot, is still a safe name of at most 200 bytes', () => {
  const names = new UniquePathAllocator();
  const long = `${'a'.repeat(196)}.mp4`; // exactly 200 bytes
  const cjk = `${'视频'.repeat(40)}.mp4`; // 240 characters' worth of UTF-8, cut to fit
  const spaced = `${'b'.repeat(199)} ${'c'.repeat(60)}`; // no extension; the cut lands on the space
  const season = 'Season.1'.repeat(30); // 240 bytes: a file first, then a folder of the same name
  const made = [long, long, long, cjk, cjk, spaced, season, `${season}/y.mp4`, `${season}/z.mp4`].map((n) => names.allocate(n));
  for (const path of made) {
    for (const segment of path.split('/')) assert.ok(Buffer.byteLength(segment) <= 200, `${segment.length} chars: ${segment}`);
    assert.equal(safeRelativePath(path), path, `a made name is its own safe form: ${JSON.stringify(path)}`);
  }
  assert.equal(new Set(made).size, made.length);
  assert.match(made[1]!, /^a{192} \(2\)\.mp4$/);
  assert.match(made[4]!, /^(视频)+ \(2\)\.mp4$/);
  assert.equal(made[5], 'b'.repeat(199), 'cut at the space: the space goes too');
  // The folder that collides with the file gets its number at the end (its dots are no
  // extension), cut to fit, and both of its files land in it.
  assert.equal(made[7], `${'Season.1'.repeat(24)}Seas (2)/y.mp4`);
  assert.equal(made[8], `${'Season.1'.repeat(24)}Seas (2)/z.mp4`);
  assert.equal(withSuffix('dir.v2/clip', 3), 'dir.v2/clip (3)', 'only the last segment of a path gets the number');
});

test('a deep path is kept within 600 bytes (macOS refuses 1024 with the destination), the file name whole', () => {
  const deep = Array.from({ length: 16 }, (_, i) => `${String(i).padStart(2, '0')}-${'d'.repeat(150)}`).join('/') + `/${'n'.repeat(180)}.mp4`;
  const safe = safeRelativePath(deep);
  assert.ok(Buffer.byteLength(safe) <= 600, `${Buffer.byteLength(safe)} bytes`);
  assert.ok(safe.endsWith(`/${'n'.repeat(180)}.mp4`));
  assert.ok(safe.startsWith('14-'), `the deepest folders are kept, the outer ones dropped: ${safe.slice(0, 20)}`);
  assert.equal(safeRelativePath('a/b/c.mp4'), 'a/b/c.mp4');
});

test('two deep paths cut to the same 600 bytes get distinct names, each within the cap and left as it is by safeRelativePath', () => {
  const folder = (c: string) => c.repeat(200);
  const name = `${'n'.repeat(192)}.bin`; // 601 bytes with its folders: p1/ and p2/ are cut, and the two meet
  const allocator = new UniquePathAllocator();
  const first = allocator.allocate(`p1/${folder('a')}/${folder('b')}/${name}`);
  const second = allocator.allocate(`p2/${folder('a')}/${folder('b')}/${name}`);
  assert.notEqual(collisionKey(first), collisionKey(second));
  for (const path of [first, second]) {
    assert.ok(Buffer.byteLength(path) <= 600, `${Buffer.byteLength(path)} bytes`);
    assert.equal(safeRelativePath(path), path);
  }
  assert.match(second, / \(2\)\.bin$/);
});
