// yazl, loaded with its CRC-32 swapped for zlib.crc32.
//
// yazl computes CRC-32 through `buffer-crc32`, a pure-JS table loop (~300 MiB/s here), which caps
// STORE zipping far below disk speed. zlib.crc32 (Node >= 22.2, native, ~6 GiB/s) computes the
// same function. yazl calls `crc32.unsigned(chunk, previous)` on the module object at call time,
// so replacing that one property on the exact module instance yazl required (resolved from
// yazl's own folder) is enough: no fork, no postinstall patch, no npm override to keep in sync.
// `assertNativeCrc()` proves the swap took, and a test checks yazl's CRCs against zlib's.
// If yazl ever stops using buffer-crc32, the assertion fails loudly instead of silently slowing down.
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
