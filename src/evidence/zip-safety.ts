import { UserError } from '../errors.js';

/**
 * What `evidence verify` refuses before it inflates a single byte: a bundle is handed around,
 * and a zip built by hand can make a verifier (or the auditor's unzip) write outside its folder,
 * overwrite one file with another, or inflate gigabytes from a few kilobytes (entries sharing
 * their compressed bytes: each re-inflates them). Every check reads the central directory and
 * the local headers only, so a hostile zip is refused in milliseconds, naming the entry.
 */
export interface ZipLimits {
  /** the sum of the entries' declared uncompressed sizes */
  maxTotalBytes: number;
  /** uncompressed / compressed, for entries larger than RATIO_FLOOR_BYTES */
  maxRatio: number;
}

/**
 * Defaults: a bundle holds the whole PROD dump (a few GiB at most for a depot's database,
 * incompressible once encrypted) and text a few times smaller than it deflates to; deflate
 * itself cannot exceed about 1032:1, which is what a bomb uses.
 */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxTotalBytes: 16 * 1024 ** 3, maxRatio: 200 };
/** below this an entry's ratio is not checked: a small file cannot be a bomb, and a tiny JSON of spaces compresses very well */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

export class UnsafeZip extends UserError {
  constructor(
    file: string,
    readonly entry: string,
    what: string,
    hint?: string,
  ) {
    super('UNSAFE_ZIP', `${file}: entry ${JSON.stringify(entry)}: ${what}`, { where: { file, field: entry }, ...(hint ? { hint } : {}) });
  }
}

/** Names an extraction would place outside its folder, or that a file system reads differently. */
export function unsafeName(name: string): string | undefined {
  if (name === '') return 'has an empty name';
  if (name.includes('\0')) return 'has a NUL byte in its name';
  if (name.includes('\\')) return 'has a backslash in its name (a folder separator on Windows)';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'has an absolute path';
  if (name.split('/').some((s) => s === '..')) return 'has a ".." segment: it would be written outside the folder it is extracted to';
  return undefined;
}

export interface EntryExtent {
  name: string;
  /** where its local header starts, and where its compressed data ends */
  start: number;
  end: number;
  size: number;
  compressedSize: number;
  method: number;
}

const GiB = 1024 ** 3;
const human = (n: number) => (n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`);

/** Names, duplicates, overlaps and limits over the whole directory; the first problem is thrown. */
export function checkEntries(file: string, entries: readonly EntryExtent[], centralDirectoryAt: number, limits: ZipLimits): void {
  const names = new Map<string, string>();
  let total = 0;
  for (const e of entries) {
    const bad = unsafeName(e.name);
    if (bad) throw new UnsafeZip(file, e.name, bad);
    const folded = e.name.normalize('NFC').toLowerCase();
    const twin = names.get(folded);
    if (twin !== undefined) {
      throw new UnsafeZip(
        file,
        e.name,
        twin === e.name
          ? 'appears twice in the zip'
          : `differs from ${JSON.stringify(twin)} only by case: one overwrites the other when unzipped`,
      );
    }
    names.set(folded, e.name);
    if (e.method === 0 && e.size !== e.compressedSize)
      throw new UnsafeZip(file, e.name, `is stored (not compressed) yet declares ${e.size} bytes from ${e.compressedSize}`);
    if (e.size > RATIO_FLOOR_BYTES && e.size > limits.maxRatio * Math.max(1, e.compressedSize)) {
      throw new UnsafeZip(
        file,
        e.name,
        `inflates ${e.compressedSize} bytes to ${e.size} (ratio ${Math.round(e.size / Math.max(1, e.compressedSize))}:1, limit ${limits.maxRatio}:1)`,
        'a zip bomb, or raise --max-ratio if the bundle is genuine',
      );
    }
    total += e.size;
    if (total > limits.maxTotalBytes) {
      throw new UnsafeZip(
        file,
        e.name,
        `brings the declared total to ${human(total)}, over the limit of ${human(limits.maxTotalBytes)}`,
        'raise --max-size if the bundle is genuine',
      );
    }
    if (e.end > centralDirectoryAt) throw new UnsafeZip(file, e.name, 'its data runs into the central directory');
  }
  const byOffset = [...entries].sort((a, b) => a.start - b.start);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    if (cur.start < prev.end) {
      throw new UnsafeZip(
        file,
        cur.name,
        `shares bytes ${cur.start}-${Math.min(cur.end, prev.end)} with ${JSON.stringify(prev.name)}: entries whose data overlap re-inflate the same bytes`,
      );
    }
  }
}
