import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable, Transform, pipeline as pipelineCb, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';
import { UserError } from '../errors.js';
import { HashedFileSink } from '../db/file-sink.js';
import type { FileDigest } from '../hash.js';

/**
 * age (age-encryption.org/v1) for the files of a backup that hold table data, through the npm
 * package `age-encryption` (typage, by age's author): a file encrypted here decrypts with the
 * `age` or `rage` command line too, so a depot is never tied to this pipeline to read its own
 * dump. Everything streams (64 KiB authenticated chunks): a dump of any size costs a few
 * buffers. The pipeline only ever holds recipients (public) during a backup; an identity
 * (private) is needed to verify or restore one.
 */
export const AGE_SUFFIX = '.age';
export const AGE_TOOL = 'age-encryption 0.3.1 (age-encryption.org/v1)';

/** Identities read from an age identity file (or a secret holding one), and where they came from, for messages. */
export interface AgeIdentities {
  identities: string[];
  /** for messages: the file, or "input age-identity" */
  source: string;
  /** the identity file, when there is one (errors point at it) */
  file?: string;
  /** the option or input that gave it */
  field: string;
}

const whereOf = (k: { file?: string | undefined; field: string }) => (k.file ? { file: k.file, field: k.field } : { field: k.field });

const RECIPIENT = /^age1[0-9a-z]+$/;
const IDENTITY = /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/;

/**
 * Recipients as `--encrypt-to` or the action's `encrypt-to` give them: each value may hold several,
 * separated by newlines or commas (a committed age.pub is pasted as it is; `#` lines are comments).
 * Each is checked by the library itself, so a typo is refused before anything is dumped.
 */
export function parseRecipients(values: readonly string[], field = 'encrypt-to'): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const raw of v.split(/[\n,]/)) {
      const r = raw.trim();
      if (r === '' || r.startsWith('#')) continue;
      if (!RECIPIENT.test(r)) {
        throw new UserError('BAD_OPTION', `--${field} ${JSON.stringify(r.slice(0, 24))}: not an age recipient (age1…)`, {
          where: { field },
          hint: r.startsWith('AGE-SECRET-KEY')
            ? 'that is a private identity: give its public key (age.pub), never the key itself'
            : undefined,
        });
      }
      try {
        new Encrypter().addRecipient(r);
      } catch (e) {
        throw new UserError('BAD_OPTION', `--${field} ${r.slice(0, 16)}…: ${(e as Error).message}`, { where: { field } });
      }
      if (!out.includes(r)) out.push(r);
    }
  }
  return out;
}

/**
 * The identities of an age identity file's text: one AGE-SECRET-KEY-… per line, `#` comments
 * and blank lines allowed. `from`: the file it was read from, or the input that held it.
 */
export function parseIdentities(text: string, from: { file: string } | { input: string }, field = 'identity'): AgeIdentities {
  const file = 'file' in from ? from.file : undefined;
  const source = file ?? `input ${'input' in from ? from.input : field}`;
  const where = whereOf({ file, field });
  const identities: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!IDENTITY.test(line)) {
      throw new UserError('BAD_IDENTITY', `${source} line ${i + 1} is not an age identity (AGE-SECRET-KEY-1…)`, {
        where,
        hint: line.startsWith('age1') ? 'that is a recipient (public key): give the private age.key' : undefined,
      });
    }
    identities.push(line);
  }
  if (!identities.length) throw new UserError('BAD_IDENTITY', `${source} holds no age identity (AGE-SECRET-KEY-1…)`, { where });
  return { identities, source, ...(file ? { file } : {}), field };
}

export async function readIdentityFile(file: string, field = 'identity'): Promise<AgeIdentities> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError('BAD_IDENTITY', `cannot read the identity file: ${e.code ?? e.message}`, { where: { file, field } });
  });
  return parseIdentities(text, { file }, field);
}

const toWeb = (r: Readable) => Readable.toWeb(r) as unknown as ReadableStream<Uint8Array>;
const fromWeb = (r: ReadableStream<Uint8Array>) => Readable.fromWeb(r as unknown as WebReadableStream<Uint8Array>);

/** Hashes what passes through it (the plaintext on its way to the encrypter, or out of the decrypter). */
class Digesting extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  /** set once the stream has ended */
  sha256 = '';
  constructor(private readonly check?: (d: FileDigest) => Error | undefined) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    cb(this.check?.({ bytes: this.bytes, sha256: this.sha256 }) ?? null);
  }
}

/**
 * `src` (plaintext) encrypted to `dest` for every recipient; both sides hashed in the one pass,
 * so the manifest can bind the ciphertext on disk to the plaintext the verification proved.
 */
export async function encryptFile(
  src: string,
  dest: string,
  recipients: readonly string[],
): Promise<{ plain: FileDigest; cipher: FileDigest }> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const plain = new Digesting();
  const source = createReadStream(src);
  const feeding = pipeline(source, plain);
  const ciphertext = fromWeb(await e.encrypt(toWeb(plain)));
  feeding.catch((err: Error) => ciphertext.destroy(err));
  const sink = new HashedFileSink(dest);
  await pipeline(ciphertext, sink);
  return { plain: { bytes: plain.bytes, sha256: plain.sha256 }, cipher: sink.digest() };
}

function wrongIdentity(keys: AgeIdentities, display: string, e: Error): UserError {
  return new UserError('WRONG_IDENTITY', `${keys.source}: none of its identities can decrypt ${display} (${e.message})`, {
    where: whereOf(keys),
    hint: "give the depot's age.key whose public key the backup was encrypted to (manifest.json encryption.recipients)",
  });
}

/**
 * The plaintext of an age file as a stream. The header is read and unwrapped before this
 * resolves, so a wrong identity is a UserError here, before any consumer started. With
 * `expect`, the stream fails at its end unless the plaintext has exactly that size and SHA-256:
 * a ciphertext swapped for another one encrypted to the same public key decrypts fine, and is
 * caught only so. A damaged chunk fails the stream where it is (age authenticates each chunk).
 */
export async function openDecrypted(
  file: string,
  keys: AgeIdentities,
  opts: { display?: string; expect?: FileDigest } = {},
): Promise<Readable> {
  const display = opts.display ?? file;
  const d = new Decrypter();
  for (const id of keys.identities) d.addIdentity(id);
  const source = createReadStream(file);
  let plaintext: ReadableStream<Uint8Array>;
  try {
    plaintext = await d.decrypt(toWeb(source));
  } catch (e) {
    source.destroy();
    const msg = (e as Error).message;
    if (/no identity matched/i.test(msg)) throw wrongIdentity(keys, display, e as Error);
    throw new UserError('BACKUP_CORRUPT', `${display} is not a readable age file: ${msg}`, { where: { file: display } });
  }
  const expect = opts.expect;
  const digest = new Digesting((got) =>
    expect && (got.bytes !== expect.bytes || got.sha256 !== expect.sha256)
      ? new UserError(
          'BACKUP_TAMPERED',
          `${display} decrypts to ${got.bytes} bytes SHA-256 ${got.sha256.slice(0, 12)}…; the manifest records ${expect.bytes} bytes ${expect.sha256.slice(0, 12)}… for its plaintext`,
          { where: { file: display } },
        )
      : undefined,
  );
  const out = fromWeb(plaintext);
  // registered before pipeline's own handler, so the consumer sees what went wrong in our words
  out.on('error', (e) => digest.destroy(decryptFailure(display, e)));
  pipelineCb(out, digest, () => {});
  return digest;
}

function decryptFailure(display: string, e: Error): Error {
  return e instanceof UserError
    ? e
    : new UserError('BACKUP_TAMPERED', `${display}: decryption failed (${e.message}): the file was altered or truncated`, {
        where: { file: display },
      });
}

/** Proves the identities open `file` (its header only), so a wrong key is refused before anything is touched. */
export async function assertIdentityOpens(file: string, keys: AgeIdentities, display?: string): Promise<void> {
  const s = await openDecrypted(file, keys, display ? { display } : {});
  s.destroy();
}

/** The whole plaintext of a small age file (auth-users.json, a CSV snapshot of the embedded demo), size and hash checked. */
export async function decryptToBuffer(
  file: string,
  keys: AgeIdentities,
  opts: { display?: string; expect?: FileDigest } = {},
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await openDecrypted(file, keys, opts)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
