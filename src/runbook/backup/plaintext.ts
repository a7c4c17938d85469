import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { assertIdentityOpens, decryptToBuffer, openDecrypted, type AgeIdentities } from '../../crypto/age.js';
import type { ArchiveInput } from '../../db/dump.js';
import { hashStream, type FileDigest } from '../../hash.js';
import type { Manifest, ManifestFile } from '../../results/backup.js';

/**
 * How the steps that read a backup (its verification, the rollback) get at its plaintext. A
 * folder stored in clear is read as it is, by path, exactly as before encryption existed. An
 * encrypted one is decrypted as it is read, never to a file: each stream checks at its end that
 * it decrypted to the size and SHA-256 the manifest recorded for the plaintext. The identity is
 * proven on the archive's header when the reader is made, before the caller touches anything.
 */
export class BackupPlaintext {
  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    private readonly keys: AgeIdentities | undefined,
  ) {}

  static async open(dir: string, manifest: Manifest, keys: AgeIdentities | undefined, log: Logger): Promise<BackupPlaintext> {
    const enc = manifest.encryption;
    if (!enc) {
      if (keys) log.warn(`${dir}: the backup is not encrypted; the identity ${keys.source} is not used`);
      return new BackupPlaintext(dir, manifest, undefined);
    }
    if (!keys) {
      throw new UserError(
        'IDENTITY_REQUIRED',
        `${dir}: its data files are age-encrypted (to ${enc.recipients.join(', ')}); reading them needs the matching identity`,
        { where: { field: 'identity' }, hint: "give --identity FILE (the depot's age.key; in the workflow the AGE_IDENTITY secret)" },
      );
    }
    const r = new BackupPlaintext(dir, manifest, keys);
    await assertIdentityOpens(r.abs(manifest.dump.file), keys, r.abs(manifest.dump.file));
    return r;
  }

  get encrypted(): boolean {
    return this.keys !== undefined;
  }

  private abs(diskPath: string): string {
    return path.join(this.dir, diskPath);
  }

  /** The manifest entry of a file, by its name on disk or its plaintext name. */
  entry(name: string): ManifestFile {
    const f = this.manifest.files.find((x) => x.path === name || x.plaintext?.path === name);
    if (!f) throw new UserError('BACKUP_CORRUPT', `${name} is not listed in the manifest`, { where: { file: this.abs(name) } });
    return f;
  }

  /** What the PostgreSQL tools read: the file by path when it is in clear, else its decrypted stream. */
  input(name: string): ArchiveInput {
    const f = this.entry(name);
    if (!f.plaintext || !this.keys) return this.abs(f.path);
    return { display: this.abs(f.path), open: () => this.stream(name) };
  }

  /** A fresh stream of the plaintext; an encrypted one fails at its end unless it is exactly what the manifest recorded. */
  async stream(name: string): Promise<Readable> {
    const f = this.entry(name);
    if (!f.plaintext || !this.keys) return createReadStream(this.abs(f.path));
    return openDecrypted(this.abs(f.path), this.keys, { display: this.abs(f.path), expect: f.plaintext });
  }

  /** The whole plaintext (auth-users.json, an embedded SQL dump: files that are read whole anyway). */
  async buffer(name: string): Promise<Buffer> {
    const f = this.entry(name);
    if (!f.plaintext || !this.keys) return readFile(this.abs(f.path));
    return decryptToBuffer(this.abs(f.path), this.keys, { display: this.abs(f.path), expect: f.plaintext });
  }

  /** Size and SHA-256 of the plaintext, streamed (for an encrypted file: decrypted and checked against the record). */
  async digest(name: string): Promise<FileDigest> {
    return hashStream(await this.stream(name));
  }
}

/** A file's name as the steps know it: its plaintext name when it is stored encrypted. */
export const plainPathOf = (f: ManifestFile): string => f.plaintext?.path ?? f.path;
/** Size and SHA-256 of what a file holds: its plaintext's when it is stored encrypted. */
export const plainDigestOf = (f: ManifestFile): FileDigest => f.plaintext ?? { bytes: f.bytes, sha256: f.sha256 };
