// What one archive (volume) will hold, and an upper bound of its final size — headers, data,
// manifest.json, SHA256SUMS, central directory and end records included — so a file is placed
// only where it fits the volume limit. Exact for stored entries; DEFLATE sizes are bounded.
import type { VerifiedFile } from '../jobs/output-sink.ts';
import { checksumsLine, checksumsName, fileLine, fileLineCost, manifestFileRecord, manifestName } from './manifest.ts';
import { deflateBound, ZipSizeModel } from './zip-layout.ts';
import type { LayoutEntry } from './zip-layout.ts';

export interface PlannedFile {
  file: VerifiedFile;
  compress: boolean;
}

function fileEntry(file: VerifiedFile, compress: boolean): LayoutEntry {
  return {
    nameBytes: Buffer.byteLength(file.safePath),
    size: file.size,
    compressedSize: compress ? deflateBound(file.size) : file.size,
    hasDescriptor: true,
  };
}

/** The trailer is added with addBuffer (no data descriptor) and deflated. */
function trailerEntries(manifestBytes: number, checksumsBytes: number): LayoutEntry[] {
  return [
    { nameBytes: Buffer.byteLength(manifestName), size: manifestBytes, compressedSize: deflateBound(manifestBytes), hasDescriptor: false },
    { nameBytes: Buffer.byteLength(checksumsName), size: checksumsBytes, compressedSize: deflateBound(checksumsBytes), hasDescriptor: false },
  ];
}

export class VolumePlan {
  readonly files: PlannedFile[] = [];
  /** The same files by entry name: looked up once per entry (a scan each was quadratic in the batch). */
  private readonly byName = new Map<string, PlannedFile>();
  /** Source bytes planned. */
  bytes = 0;
  private readonly model = new ZipSizeModel();
  private manifestBytes: number;
  private checksumsBytes = 0;

  /** `manifestHeaderBytes`: size of this volume's manifest with no files, at its longest. */
  constructor(manifestHeaderBytes: number) {
    this.manifestBytes = manifestHeaderBytes + 1;
  }

  private costs(file: VerifiedFile): { manifest: number; checksums: number } {
    return {
      manifest: fileLineCost(fileLine(manifestFileRecord(file, 0))),
      checksums: Buffer.byteLength(checksumsLine(file.sha256, file.safePath)),
    };
  }

  /** Upper bound of the closed archive's size with `file` added. */
  sizeWith(file: VerifiedFile, compress: boolean): number {
    const cost = this.costs(file);
    return this.model.totalWith([fileEntry(file, compress), ...trailerEntries(this.manifestBytes + cost.manifest, this.checksumsBytes + cost.checksums)]);
  }

  /** Upper bound of the closed archive's size with its actual trailer texts. */
  sizeWithTrailer(manifestBytes: number, checksumsBytes: number): number {
    return this.model.totalWith(trailerEntries(manifestBytes, checksumsBytes));
  }

  /** Upper bound of the closed archive's size as planned. */
  size(): number {
    return this.sizeWithTrailer(this.manifestBytes, this.checksumsBytes);
  }

  add(file: VerifiedFile, compress: boolean): void {
    const cost = this.costs(file);
    this.model.add(fileEntry(file, compress));
    this.manifestBytes += cost.manifest;
    this.checksumsBytes += cost.checksums;
    this.bytes += file.size;
    const planned = { file, compress };
    this.files.push(planned);
    this.byName.set(file.safePath, planned);
  }

  /** The planned file whose entry name is `name`. */
  fileNamed(name: string): PlannedFile | undefined {
    return this.byName.get(name);
  }
}
