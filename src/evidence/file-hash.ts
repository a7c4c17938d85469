import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Bytes and SHA-256 of a file, streamed (a dump may be larger than memory). */
export interface FileDigest {
  bytes: number;
  sha256: string;
}

export async function hashFile(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    bytes += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { bytes, sha256: hash.digest('hex') };
}

export const sha256Text = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
