// What every source adapter produces: a flat list of results to download.

export type SourceKind = 'api' | 'index' | 'list' | 'folder';
export const sourceKinds: readonly SourceKind[] = ['api', 'index', 'list', 'folder'];

export interface ResultItem {
  /** Stable identity on that server (API id, else the URL or path). Used by the catalog for --only-new. */
  id: string;
  /** Relative path as the server names it ("sub/clip.mp4"); unsafe until passed through safe-path.ts. */
  name: string;
  /** Absolute http(s) URL, or an absolute local path for the folder source. */
  url: string;
  size?: number | undefined;
  /** Lower-case hex SHA-256 the server claims, when it gives one. */
  sha256?: string | undefined;
  createdAt?: string | undefined;
  /** Generation parameters from the results API, carried into the manifest as they are. */
  params?: unknown;
}

export interface SkippedItem {
  name: string;
  reason: string;
}

export interface Listing {
  /** The source as the user gave it, normalised (URL or absolute path). */
  source: string;
  kind: SourceKind;
  items: ResultItem[];
  /** Results seen but not selectable (still processing, malformed entry…), with why. */
  skipped: SkippedItem[];
  /** Things about selectable results worth telling the user (a checksum that cannot be used…). */
  warnings?: string[] | undefined;
}

/** How far a listing has got: results read so far (ready or not), and how many the server says it has (a results API). */
export interface ListingProgress {
  found: number;
  total?: number | undefined;
}

export interface ListOptions {
  token?: string | undefined;
  /** Subfolder depth for HTTP indexes and local folders. */
  depth: number;
  kind?: SourceKind | undefined;
  /** Aborting it ends the listing with CANCELLED. */
  signal?: AbortSignal | undefined;
  /** Called after each page or folder read (a large batch takes a while to list). */
  onProgress?: ((progress: ListingProgress) => void) | undefined;
}
