import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { asWriteFailure } from '../write-error.js';

/**
 * Bytes on their way to a file, hashed as they pass (SHA-256 and size), so a dump or a table
 * snapshot of any size is written once, never held in memory and never read back to be hashed.
 * A `follower` gets the same bytes while it lives (a pg_restore reading pg_dump's output); one
 * that dies (its restore failed) is dropped and the file is still written whole: the archive is
 * worth keeping, and `backup verify` can prove it later. A chunk is acknowledged once both took
 * it, so the slower of the two sets the pace and memory stays at a few buffers.
 * A failed write of the file (full disk…) errors the sink at once, as a UserError naming the
 * file: whoever feeds it stops, rather than waiting for a drain that never comes.
 */
export class HashedFileSink extends Writable {
  private readonly out;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  /** why the follower stopped taking bytes, if it did */
  followerError: Error | undefined;

  constructor(
    private readonly file: string,
    private readonly follower?: Writable,
  ) {
    super();
    this.out = createWriteStream(file);
    this.out.on('error', (e) => this.destroy(this.failure(e)));
  }

  private failure(e: Error): Error {
    return asWriteFailure(e, this.file) as Error;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    let pending = 1;
    if (this.follower && !this.followerError) {
      pending++;
      this.follower.write(chunk, (e) => {
        if (e) this.followerError ??= e;
        if (--pending === 0) cb();
      });
    }
    this.out.write(chunk, (e) => {
      if (e) return cb(this.failure(e));
      if (--pending === 0) cb();
    });
  }

  override _final(cb: (e?: Error | null) => void): void {
    if (this.follower && !this.followerError) this.follower.end();
    this.out.end((e?: Error | null) => cb(e ? this.failure(e) : e));
  }

  /** size and SHA-256 of what was written; call once the stream has finished */
  digest(): { bytes: number; sha256: string } {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

/** Bytes hashed and thrown away: the digest a file of them would have, without writing one. */
export class DigestSink extends Writable {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb();
  }

  digest(): { bytes: number; sha256: string } {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}
