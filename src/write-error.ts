import { UserError } from './errors.js';

/**
 * A file that could not be written (full disk, quota, I/O error, read-only mount…) is the
 * user's to fix, not a bug: one line naming the file, what the system said (with its errno, so
 * it can be looked up) and what to do. Anything else stays as it is.
 */
const WRITE_ERRNOS: Record<string, { said: string; fix: (elsewhere: string) => string }> = {
  ENOSPC: { said: 'no space left on device', fix: (elsewhere) => `free space or ${elsewhere}` },
  EDQUOT: { said: 'disk quota exceeded', fix: (elsewhere) => `free space within the quota or ${elsewhere}` },
  EFBIG: { said: 'file too large for its file system', fix: (elsewhere) => elsewhere },
  EIO: { said: 'input/output error', fix: (elsewhere) => `check the disk (dmesg) or ${elsewhere}` },
  EROFS: { said: 'read-only file system', fix: (elsewhere) => elsewhere },
  EACCES: { said: 'permission denied', fix: (elsewhere) => elsewhere },
  EPERM: { said: 'operation not permitted', fix: (elsewhere) => elsewhere },
  ENOENT: { said: 'the folder is gone', fix: (elsewhere) => elsewhere },
};

export const WRITE_FAILED = 'WRITE_FAILED';

/** The UserError for `e` met while writing `file`, or undefined when `e` is not a write failure of the system. */
export function writeFailure(e: unknown, file: string, elsewhere = 'choose another --out'): UserError | undefined {
  if (e instanceof UserError) return e.code === WRITE_FAILED ? e : undefined;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const known = code ? WRITE_ERRNOS[code] : undefined;
  if (!code || !known) return undefined;
  return new UserError(WRITE_FAILED, `${known.said} (${code}) while writing ${file}: ${known.fix(elsewhere)}`, {
    where: { file },
    cause: e,
  });
}

/** `e` as a write failure of `file` when it is one, else `e` unchanged. */
export function asWriteFailure(e: unknown, file: string, elsewhere?: string): unknown {
  return writeFailure(e, file, elsewhere) ?? e;
}
