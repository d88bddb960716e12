// Safe relative paths for everything the server names: the only place file and entry names
// are made. The same names are used for loose files (--mode folder) and archive entries,
// so nothing a server sends can escape the destination or the archive.

const maxSegmentBytes = 200; // ext4/NTFS allow 255; leave room for ".part" and the like
const maxSegments = 16;
// The whole relative path: macOS refuses paths over 1024 bytes (ENAMETOOLONG, and the job would
// stop at that file on every run), and Windows' Explorer opens few over 260 characters. The
// destination folder's own path needs room too; the deepest folders go first, the name stays.
const maxPathBytes = 600;
// Windows before 11 also takes "con .txt" for CON: spaces before the extension are dropped.
const windowsReserved = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$) *(\..*)?$/i;
// Control characters (C0, DEL, C1), characters Windows forbids in names, line and paragraph
// separators, invisible ones (zero-width space, BOM, word joiner) and the bidirectional
// controls that can make "clip\u202Egpj.exe" read as "clipexe.jpg". Zero-width joiner stays:
// emoji are built with it.
const forbiddenChars = /[\u0000-\u001f\u007f-\u009f<>:"|?*\u2028\u2029\u200b\ufeff\u2060\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufffd]/g;

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
}

/** Splits "name.ext" into ["name", ".ext"]; a leading dot is part of the name. */
export function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || name.length - dot > 16) return [name, ''];
  return [name.slice(0, dot), name.slice(dot)];
}

function safeSegment(raw: string): string | null {
  // toWellFormed: a lone surrogate (invalid UTF-16 from a JSON escape) cannot be written as
  // UTF-8; it would become U+FFFD on disk and in the archive, and no longer match its name.
  let seg = raw.toWellFormed().normalize('NFC').replace(forbiddenChars, '_');
  seg = seg.replace(/[. ]+$/, '').replace(/^ +/, ''); // Windows drops trailing dots/spaces
  if (seg === '' || seg === '.' || seg === '..' || /^_*$/.test(seg) && raw.trim() === '') return null;
  if (/^\.+$/.test(seg)) return null;
  if (windowsReserved.test(seg)) seg = `_${seg}`;
  if (Buffer.byteLength(seg) > maxSegmentBytes) {
    const [base, ext] = splitExtension(seg);
    seg = fitted(base, '', ext);
  }
  return seg;
}

/**
 * `base` + `suffix` + `ext` within the length cap: the base is cut, never the suffix or the
 * extension, and a cut that leaves the base ending in a dot or space drops those too (Windows
 * would). A name made here is one safeSegment leaves as it is.
 */
function fitted(base: string, suffix: string, ext: string): string {
  const cut = truncateUtf8(base, maxSegmentBytes - Buffer.byteLength(suffix) - Buffer.byteLength(ext)).replace(/[. ]+$/, '');
  return `${cut || '_'}${suffix}${ext}`;
}

/**
 * Turns a name from a listing into a safe relative path with "/" separators:
 * no absolute paths, no "..", no backslashes or drive letters, no control characters,
 * Windows reserved names and trailing dots/spaces made harmless, NFC, bounded length.
 * Never returns an empty string.
 */
export function safeRelativePath(name: string, fallback = 'file', maxBytes = maxPathBytes): string {
  const withoutDrive = name.replace(/^[a-zA-Z]:/, '');
  const segments: string[] = [];
  for (const raw of withoutDrive.split(/[\\/]+/)) {
    const seg = safeSegment(raw);
    if (seg !== null) segments.push(seg);
  }
  const kept = segments.slice(-maxSegments);
  if (kept.length === 0) return safeSegment(fallback) ?? 'file';
  return withinPathBytes(kept.join('/'), maxBytes);
}

/** `path` without its outer folders while it is longer than `maxBytes` (the name always stays). */
function withinPathBytes(path: string, maxBytes = maxPathBytes): string {
  const segments = path.split('/');
  while (segments.length > 1 && Buffer.byteLength(segments.join('/')) > maxBytes) segments.shift();
  return segments.join('/');
}

/**
 * Case- and normalization-insensitive key: two paths with the same key collide on some OS.
 * Final sigma folds to sigma ("ας" and "ασ" share the capital ΑΣ on NTFS); no full case
 * folding, which would also make "Straße" and "Strasse" collide, and they do not.
 */
export function collisionKey(path: string): string {
  return path.normalize('NFC').toLowerCase().replace(/ς/g, 'σ');
}

/**
 * `clip (2).mp4` for (`clip.mp4`, 2): the one way a taken file name gets its number. Given a
 * path, its last segment gets it. A long name is cut to make room (it stays within the cap).
 */
export function withSuffix(path: string, n: number): string {
  const slash = path.lastIndexOf('/');
  const [base, ext] = splitExtension(path.slice(slash + 1));
  return path.slice(0, slash + 1) + fitted(base, ` (${n})`, ext);
}

/** `Season 1 (2)` for (`Season 1`, 2): a folder's name gets its number at the end (a dot in it is no extension). */
export function folderWithSuffix(segment: string, n: number): string {
  return fitted(segment, ` (${n})`, '');
}

/**
 * Hands out distinct safe paths: a second "clip.mp4" (or "CLIP.mp4", or its NFD twin)
 * becomes "clip (2).mp4"; a file never takes the name of a folder another path needs,
 * nor the reverse.
 */
export class UniquePathAllocator {
  private readonly files = new Set<string>();
  private readonly folders = new Set<string>();
  /**
   * The next suffix to try for a file path already seen (its collision key): the k-th
   * "output.mp4" starts at " (k)" instead of trying every number below it again (100 000
   * files of one name would otherwise take ~5e9 lookups). Names are never released, so the
   * numbers skipped stay taken. Not for folders: every file under a renamed folder must land
   * in the same "Season (2)", so its search starts at 2 each time.
   */
  private readonly nextFileSuffix = new Map<string, number>();

  /** Marks a path as taken (e.g. "manifest.json" in an archive, or a path restored from a journal). */
  reserve(path: string): void {
    this.claim(path);
  }

  allocate(name: string, fallback?: string): string {
    const segments = safeRelativePath(name, fallback).split('/');
    // Folders first: a folder segment that collides with a taken file gets a suffix.
    for (let i = 0; i < segments.length - 1; i++) {
      const prefix = segments.slice(0, i + 1).join('/');
      if (!this.files.has(collisionKey(prefix))) continue;
      let n = 2;
      const original = segments[i]!;
      do {
        segments[i] = folderWithSuffix(original, n++);
      } while (this.files.has(collisionKey(segments.slice(0, i + 1).join('/'))));
    }
    const last = segments.length - 1;
    const original = segments[last]!;
    // A number or a folder's suffix can take a path past the cap: its outer folders go then, as
    // in safeRelativePath, so every name handed out is one safeRelativePath leaves as it is.
    let candidate = withinPathBytes(segments.join('/'));
    if (this.isTaken(candidate)) {
      const key = collisionKey(candidate);
      let n = this.nextFileSuffix.get(key) ?? 2;
      do {
        segments[last] = withSuffix(original, n++);
        candidate = withinPathBytes(segments.join('/'));
      } while (this.isTaken(candidate));
      this.nextFileSuffix.set(key, n);
    }
    this.claim(candidate);
    return candidate;
  }

  private isTaken(path: string): boolean {
    const key = collisionKey(path);
    return this.files.has(key) || this.folders.has(key);
  }

  private claim(path: string): void {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) this.folders.add(collisionKey(segments.slice(0, i).join('/')));
    this.files.add(collisionKey(path));
  }
}
