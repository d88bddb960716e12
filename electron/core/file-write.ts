// Writing big buffers to files: the one place that decides how large a single write() is.
//
// No write is larger than 256 KiB. On these VMs (Linux 6.18, ext4, free page reporting through
// virtio-balloon, as on Firecracker and many cloud VMs) writes of 1 MiB or more cost several
// times more system time than 512 KiB or less. Our reading, not verified in the kernel: ext4
// backs large writes with large page-cache folios, taken from the high-order free blocks the VM
// has handed back to its host, so those writes fault their memory in again. 1 GiB to a new file after 4 s
// idle, alternated, 3 runs each: 1 MiB writes 1.41–1.52 s of system time, 256 KiB writes
// 0.33–0.40 s; 40 minutes later, with less of the free memory warm, 1.5–2.0 s vs 1.2–1.4 s.
// The CLI, alternated with the build before (3–4 runs each): 1 GiB over http in folder mode 2.96–4.00 s
// → 2.70–3.09 s (system time 2.1–3.1 → 1.6–2.0 s), copying a local 1 GiB 2.41–3.11 → 1.67–1.77 s,
// 40 × 8 MiB end to end in zip mode 1.49–1.55 → 1.29–1.42 s. Where memory is not reported,
// 256 KiB per system call costs the same as 1 MiB. (The zip worker's output stream keeps
// Node's writev: cutting its writes made 40 × 8 MiB 20 % slower and 1 GiB no faster.)
import type { FileHandle } from 'node:fs/promises';

export const maxWriteBytes = 256 * 1024;

/** Writes `length` bytes of `buffer` at `position`, in pieces of at most maxWriteBytes, however many calls it takes. */
export async function writeFully(file: FileHandle, buffer: Uint8Array, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await file.write(buffer, written, Math.min(maxWriteBytes, length - written), position + written);
    if (bytesWritten === 0) throw new Error(`write() stored nothing at byte ${position + written}`); // never loop forever
    written += bytesWritten;
  }
}
