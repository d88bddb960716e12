// yazl, loaded with its CRC-32 swapped for zlib.crc32, and checked for our one patch to it.
//
// yazl computes CRC-32 through `buffer-crc32`, a pure-JS table loop (~300 MiB/s here), which caps
// STORE zipping far below disk speed. zlib.crc32 (Node >= 22.2, native, ~6 GiB/s) computes the
// same function. yazl calls `crc32.unsigned(chunk, previous)` on the module object at call time,
// so replacing that one property on the exact module instance yazl required (resolved from
// yazl's own folder) is enough: no fork, no npm override to keep in sync.
// `assertNativeCrc()` proves the swap took, and a test checks yazl's CRCs against zlib's.
// If yazl ever stops using buffer-crc32, the assertion fails loudly instead of silently slowing down.
//
// The patch (patches/yazl+3.3.1.patch, applied by patch-package at `npm install`): yazl looks
// for the next entry to write by scanning its entry list from the start every time, which is
// quadratic in the entries: 25 000 small files spent 3.7 s there (profiled), and the time grows
// with the square of the count. The patch resumes the scan where it stopped (entries finish in
// order). The same fix is proposed upstream (thejoshwolfe/yazl pull request 91, open); drop
// the patch once a release has it. A private function cannot be swapped from outside, hence a patch and not a swap.
// `assertLinearPump()` fails when the patch is missing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type * as Yazl from 'yazl';

interface BufferCrc32 {
  unsigned: (data: Buffer, previous?: number) => number;
}

const requireHere = createRequire(import.meta.url);
const yazlMain = requireHere.resolve('yazl');
const bufferCrc32 = createRequire(yazlMain)('buffer-crc32') as BufferCrc32;

// CRC-32s already computed by our own reader for a chunk (it needs them for the manifest),
// handed to yazl when it asks about the same chunk with the same running value, so every byte
// is CRC'd once, not twice. Keyed weakly by the chunk: nothing is kept alive.
const knownCrcs = new WeakMap<Buffer, { previous: number; crc: number }>();

/** CRC-32 of `data` continuing from `previous`, remembered for yazl's pass over the same chunk. */
export function crc32Chunk(data: Buffer, previous: number): number {
  const crc = zlib.crc32(data, previous);
  knownCrcs.set(data, { previous, crc });
  return crc;
}

function nativeUnsignedCrc32(data: Buffer, previous?: number): number {
  const known = knownCrcs.get(data);
  if (known && known.previous === (previous ?? 0)) return known.crc;
  return zlib.crc32(data, previous ?? 0);
}

bufferCrc32.unsigned = nativeUnsignedCrc32;

export const yazl = requireHere(yazlMain) as typeof Yazl;

/** Throws when yazl would not use zlib.crc32 (a dependency update changed how it loads its CRC). */
export function assertNativeCrc(): void {
  if (bufferCrc32.unsigned !== nativeUnsignedCrc32) throw new Error('yazl CRC-32 is not native');
}

/** Throws when yazl is not patched to find its next entry without rescanning them all. */
export function assertLinearPump(): void {
  if (!readFileSync(yazlMain, 'utf8').includes('self.firstNotDoneEntryIndex')) {
    throw new Error(`yazl is not patched (patches/yazl+3.3.1.patch): run "npm install" so patch-package applies it (${yazlMain})`);
  }
}
