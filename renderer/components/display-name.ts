// Names as the server sent them, made safe to look at: a right-to-left override can make
// "RTL\u202Egnp.exe.mp4" read as "RTL4pm.exe.png", and invisible or control characters hide
// what a name really is. They are shown as a visible U+FFFD instead.

// The invisible, bidirectional and control characters of forbiddenChars in
// electron/core/names/safe-path.ts (the engine replaces them with "_" in file and entry names),
// copied here because the renderer may import only types from the engine. Keep the two in step.
// (That class also has <>:"|?* for Windows file names: they are visible, and shown as they are.)
const hiddenChars = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b\ufeff\u2060\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

export const hiddenCharMark = '\ufffd';

/** `name` with every invisible, bidirectional or control character shown as U+FFFD. */
export function displayName(name: string): string {
  return name.replace(hiddenChars, hiddenCharMark);
}
