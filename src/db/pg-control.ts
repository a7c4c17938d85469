import { randomBytes } from 'node:crypto';

/**
 * A PostgreSQL data folder as a tar (PGlite's `dumpDataDir('none')`), given its own cluster system
 * identifier. Every cluster loaded from one pre-made empty cluster (src/db/pglite-template.ts) would
 * otherwise share the template's, and the rollback tells the backup's cluster from another by it
 * (`assertSameSource`, src/runbook/rollback.ts): on the embedded database it is the only thing that
 * differs, every cluster's database being "postgres" with the same OID.
 *
 * initdb writes the identifier in two places, and the server checks both at start: `global/pg_control`
 * (ControlFileData begins with it, and ends with a CRC-32C of the bytes before its crc field), and
 * the long header of the first page of every WAL segment (xlp_sysid, which the WAL reader compares
 * with pg_control's: "WAL file is from different database system"). Both are rewritten here, in place.
 */

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as PostgreSQL's pg_crc32c. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Where pg_control's crc field sits: the one 4-aligned offset whose stored value is the CRC-32C of
 * every byte before it. Found, not assumed, so that a PostgreSQL major with another ControlFileData
 * layout is still patched right, or refused (none or several offsets fit).
 */
export function pgControlCrcOffset(control: Uint8Array): number {
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  // ControlFileData is a few hundred bytes; the rest of the 8 kB file is zeros
  const fits: number[] = [];
  for (let at = 16; at + 4 <= Math.min(control.length, 1024); at += 4) {
    if (view.getUint32(at, true) === crc32c(control.subarray(0, at))) fits.push(at);
  }
  if (fits.length !== 1) {
    const which = fits.length ? `${fits.length} offsets hold` : 'no offset holds';
    throw new Error(`pg_control: ${which} the CRC-32C of the bytes before them`);
  }
  return fits[0]!;
}

export function pgControlSystemIdentifier(control: Uint8Array): bigint {
  return new DataView(control.buffer, control.byteOffset, control.byteLength).getBigUint64(0, true);
}

/**
 * A new identifier of the shape initdb gives (BootStrapXLOG: seconds since 1970 in the high 32 bits),
 * its low 32 bits random where initdb puts microseconds and the pid: two clusters made in the same
 * second still differ.
 */
export function newSystemIdentifier(now = Date.now()): bigint {
  const low = BigInt(randomBytes(4).readUInt32LE(0));
  return (BigInt(Math.floor(now / 1000)) << 32n) | low;
}

export interface TarEntry {
  name: string;
  type: 'file' | 'dir';
  /** Offset of the file's bytes in the tar. */
  start: number;
  size: number;
}

/** The regular files and folders of a ustar archive, names without a leading "/" or "./". */
export function tarEntries(tar: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  const text = (from: number, len: number) =>
    Buffer.from(tar.subarray(from, from + len))
      .toString('latin1')
      .replace(/\0.*$/s, '');
  for (let at = 0; at + 512 <= tar.length;) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    const name = text(at, 100);
    const prefix = text(at + 345, 155);
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = tar[at + 156];
    if (!Number.isFinite(size)) throw new Error(`tar: unreadable size at byte ${at}`);
    const full = (prefix ? `${prefix}/${name}` : name).replace(/^\.?\/+/, '').replace(/\/+$/, '');
    // '0' or NUL: a regular file; '5': a folder
    if (type === 0x30 || type === 0) out.push({ name: full, type: 'file', start: at + 512, size });
    else if (type === 0x35 && full) out.push({ name: full, type: 'dir', start: at + 512, size: 0 });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The regular files of a ustar archive. */
export const tarFiles = (tar: Uint8Array): TarEntry[] => tarEntries(tar).filter((e) => e.type === 'file');

const XLP_LONG_HEADER = 0x0002;
/** XLogPageHeaderData (magic, info, tli, pageaddr, rem_len + padding), then xlp_sysid. */
const XLP_SYSID_OFFSET = 24;

/**
 * Rewrites the system identifier of the data folder `tar` (modified in place) and returns the old
 * and new ones. Throws where the folder is not as expected (no pg_control, a WAL segment whose first
 * page is not a long header of the same cluster): loading it would fail later and less clearly.
 */
export function setSystemIdentifier(tar: Uint8Array, id: bigint = newSystemIdentifier()): { was: bigint; now: bigint } {
  const files = tarFiles(tar);
  const control = files.find((f) => f.name === 'global/pg_control');
  if (!control) throw new Error('the data folder has no global/pg_control');
  const ctl = tar.subarray(control.start, control.start + control.size);
  const crcAt = pgControlCrcOffset(ctl);
  const view = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
  const was = view.getBigUint64(0, true);
  view.setBigUint64(0, id, true);
  view.setUint32(crcAt, crc32c(ctl.subarray(0, crcAt)), true);
  for (const seg of files.filter((f) => /^pg_wal\/[0-9A-F]{24}$/.test(f.name))) {
    const page = new DataView(tar.buffer, tar.byteOffset + seg.start, Math.min(seg.size, 64));
    // a segment made ahead of use and never written holds zeros: nothing to rewrite
    if (page.getUint16(0, true) === 0) continue;
    if (!(page.getUint16(2, true) & XLP_LONG_HEADER) || page.getBigUint64(XLP_SYSID_OFFSET, true) !== was) {
      throw new Error(`${seg.name}: its first page is not a long header of cluster ${was}`);
    }
    page.setBigUint64(XLP_SYSID_OFFSET, id, true);
  }
  return { was, now: id };
}
