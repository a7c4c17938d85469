import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Bytes and SHA-256 of a file, streamed (a dump may be larger than memory). */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

/**
 * One hasher for files on disk and entries read out of a bundle. `inspect` sees every chunk as
 * it is hashed, so a second check (a secret scan) costs no second read.
 */
export async function hashStream(chunks: AsyncIterable<Uint8Array>, inspect?: (chunk: Buffer) => void): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const raw of chunks) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    bytes += chunk.length;
    hash.update(chunk);
    inspect?.(chunk);
  }
  return { bytes, sha256: hash.digest('hex') };
}

export function hashFile(file: string, inspect?: (chunk: Buffer) => void): Promise<FileDigest> {
  return hashStream(createReadStream(file), inspect);
}

export const sha256Text = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
