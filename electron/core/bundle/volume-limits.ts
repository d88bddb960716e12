// What a --volume-size must allow: checked by the job before anything is written, so this
// module stays small (the job runner checks the flag without loading the bundler).
import { ReelpackError } from '../errors.ts';
import { formatBytes, formatSizeOption } from '../units.ts';

/** The smallest --volume-size: a volume must hold at least the manifest and a few headers. */
export const minVolumeSize = 64 * 1024;

/** A generous size of one volume's line in every later manifest's list (name, counts, size, SHA-256). */
const volumeRecordBytes = 300;

/**
 * Every volume's manifest lists the volumes before it, so the list grows with the set. Tiny
 * volumes for a large batch (64k for 100 MB: ~1600 volumes) would end with manifests larger than
 * the volumes, every later file in a volume of its own, over the limit. Refused when the whole
 * list would take over a quarter of a volume.
 */
export function checkVolumeCount(limit: number, expectedBytes: number): void {
  const volumes = Math.ceil(expectedBytes / limit);
  if (volumes * volumeRecordBytes <= limit / 4) return;
  const enough = Math.ceil(Math.sqrt(4 * volumeRecordBytes * expectedBytes) / 1024 ** 2) * 1024 ** 2;
  throw new ReelpackError('USAGE', `volume size ${formatSizeOption(limit)} is too small for ${formatBytes(expectedBytes)}: about ${volumes} volumes, and each one's manifest lists the volumes before it; use a volume size of at least ${formatSizeOption(enough)}`);
}
