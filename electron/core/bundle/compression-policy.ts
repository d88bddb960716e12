// Which entries are stored and which deflated. Media and archives are already compressed:
// deflating them costs CPU for no gain (often a few bytes of growth), so they are STORED.
const storedExtensions = new Set([
  // video
  'mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi', 'flv', 'wmv', 'mpg', 'mpeg', 'ts', 'm2ts', '3gp',
  // audio
  'mp3', 'aac', 'm4a', 'ogg', 'oga', 'opus', 'flac', 'wma',
  // images
  'jpg', 'jpeg', 'png', 'gif', 'webp', 'avif', 'heic', 'heif', 'jxl',
  // archives and compressed streams
  'zip', '7z', 'rar', 'gz', 'tgz', 'bz2', 'xz', 'zst', 'br', 'lz4',
]);

/** True when the name ends in an extension of already-compressed media or archives (mp4, jpg, zip…). */
export function hasCompressedExtension(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && storedExtensions.has(base.slice(dot + 1).toLowerCase());
}

/** True when the entry should be DEFLATEd (text, json, srt, wav…); false for media (STORE). */
export function shouldCompress(entryName: string): boolean {
  return !hasCompressedExtension(entryName);
}
