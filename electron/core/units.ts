// Byte sizes as people write and read them.
import { ReelpackError } from './errors.ts';

const multipliers: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "2g", "4000m", "500k", "1.5G", "123" → bytes (binary units: 1k = 1024). */
export function parseSize(text: string): number {
  const m = text.trim().toLowerCase().match(/^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/);
  if (!m) throw new ReelpackError('USAGE', `bad size: "${text}" (use e.g. 2g, 4000m, 500k)`);
  const bytes = Math.floor(Number(m[1]) * multipliers[m[2]!]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new ReelpackError('USAGE', `bad size: "${text}" (out of range)`);
  return bytes;
}

/** A size as parseSize reads it back: 3145728 → "3m"; one that is no whole unit → "1500 bytes". */
export function formatSizeOption(bytes: number): string {
  for (const unit of ['t', 'g', 'm', 'k']) {
    const multiplier = multipliers[unit]!;
    if (bytes >= multiplier && bytes % multiplier === 0) return `${bytes / multiplier}${unit}`;
  }
  return exactBytes(bytes);
}

/** "3,145,728 bytes": where rounding would hide the difference between two sizes. */
export function exactBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** "1 file", "3 files". */
export function countOf(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** What a listing weighs: "1.2 GB", or which part of it is not known until downloaded. */
export function describeListedSize(bytes: number, files: number, unsizedFiles: number): string {
  if (files > 0 && unsizedFiles >= files) return 'sizes not listed';
  if (unsizedFiles > 0) return `${formatBytes(bytes)} + ${countOf(unsizedFiles, 'file')} of unlisted size`;
  return formatBytes(bytes);
}

/**
 * Binary units with the usual labels (1 MB = 1024 KB): how the app (renderer/components/format.ts),
 * Windows Explorer and `ls -lh` show sizes, and how parseSize reads `--volume-size 3m`. A
 * message about a 3m volume then says 3.0 MB, and the CLI and the app show a file alike.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
