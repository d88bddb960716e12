// Byte sizes of what yazl 3.3.1 writes, mirrored from its format code, so volumes can be planned
// to a hard byte limit before any byte is written. yazl's own end() prediction is not used: it
// assumes a ZIP64 end record once the central directory passes 64 KiB, but writes one only past
// 4 GiB, so it is 76 bytes off there. Tests compare this model with real yazl output.

const localHeaderFixed = 30;
const centralRecordFixed = 46;
const timestampExtra = 9; // Info-ZIP "UT" field yazl adds to every central record
const zip64Extra = 28;
const dataDescriptor = 16;
const zip64DataDescriptor = 24;
const endRecord = 22;
const zip64EndRecords = 56 + 20; // ZIP64 end of central directory record + locator
const zip64Threshold = 0xfffffffe;

/** yazl's rule (Entry.useZip64Format) for an entry's ZIP64 fields and data descriptor. */
export function entryUsesZip64(size: number, compressedSize: number, localHeaderOffset: number): boolean {
  return size > zip64Threshold || compressedSize > zip64Threshold || localHeaderOffset > zip64Threshold;
}

/** Bytes of the data descriptor yazl writes after a streamed entry's data. */
export function dataDescriptorBytes(zip64: boolean): number {
  return zip64 ? zip64DataDescriptor : dataDescriptor;
}

export interface LayoutEntry {
  nameBytes: number;
  size: number;
  /** Exact compressed size, or an upper bound (deflateBound) when not yet known. */
  compressedSize: number;
  /** Streamed entries end with a data descriptor; addBuffer entries do not. */
  hasDescriptor: boolean;
}

/**
 * Upper bound of raw DEFLATE output for `size` input bytes: zlib's deflateBound() for its
 * default window and memory level (what yazl uses), plus slack. Division, not >>, because sizes
 * pass 2^31.
 */
export function deflateBound(size: number): number {
  return size + Math.floor(size / 4096) + Math.floor(size / 16384) + Math.floor(size / 33554432) + 7 + 64;
}

/** A growing archive's size: exact when every compressedSize is exact, an upper bound otherwise. */
export class ZipSizeModel {
  private cursor = 0;
  private centralSize = 0;
  private count = 0;

  add(entry: LayoutEntry): void {
    const zip64 = entryUsesZip64(entry.size, entry.compressedSize, this.cursor);
    this.cursor += localHeaderFixed + entry.nameBytes + entry.compressedSize;
    if (entry.hasDescriptor) this.cursor += dataDescriptorBytes(zip64);
    this.centralSize += centralRecordFixed + entry.nameBytes + timestampExtra + (zip64 ? zip64Extra : 0);
    this.count++;
  }

  /** Total archive size once `more` entries are appended and the central directory written. */
  totalWith(more: readonly LayoutEntry[] = []): number {
    const copy = new ZipSizeModel();
    copy.cursor = this.cursor;
    copy.centralSize = this.centralSize;
    copy.count = this.count;
    for (const entry of more) copy.add(entry);
    return copy.total();
  }

  private total(): number {
    const zip64End = this.count >= 0xffff || this.centralSize >= 0xffffffff || this.cursor >= 0xffffffff;
    return this.cursor + this.centralSize + endRecord + (zip64End ? zip64EndRecords : 0);
  }
}
