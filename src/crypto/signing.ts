import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';

/**
 * The evidence bundle's signature: Ed25519 over the exact bytes of manifest.json, with Node's
 * own crypto (no dependency). Keys are PEM (PKCS#8 private, SPKI public), as `openssl genpkey
 * -algorithm ed25519` writes them, so an auditor can check a signature with openssl alone. A key
 * is named by its fingerprint: "SHA256:" and the hex SHA-256 of its SPKI DER encoding.
 */
export const SIGNATURE_ALGORITHM = 'Ed25519';

export interface SigningKey {
  key: KeyObject;
  fingerprint: string;
  source: string;
}

export function fingerprintOf(publicKey: KeyObject): string {
  return `SHA256:${createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

/** Where a key came from: a file (errors point at it) or an action input holding its PEM (from a secret). */
export type KeyOrigin = { file: string } | { input: string };
const sourceOf = (o: KeyOrigin) => ('file' in o ? o.file : `input ${o.input}`);
const whereOf = (o: KeyOrigin, field: string) => ('file' in o ? { file: o.file, field } : { field });

function notEd25519(origin: KeyOrigin, field: string, what: string, found: string | undefined): UserError {
  return new UserError('BAD_KEY', `${sourceOf(origin)} is not an Ed25519 ${what} key (found ${found ?? 'an unknown key type'})`, {
    where: whereOf(origin, field),
    hint: 'astm53b keys new --out DIR writes one (signing.key / signing.pub)',
  });
}

/** A private key from PEM text (a file, or the secret the action receives); `source` names it in errors. */
export function parseSigningKey(pem: string, origin: KeyOrigin, field = 'signing-key'): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    const isPublic = /BEGIN PUBLIC KEY/.test(pem);
    // the library's message can quote what it could not decode: never a key's bytes in an error
    throw new UserError(
      'BAD_KEY',
      `${sourceOf(origin)} is not a PEM private key${(e as { code?: string }).code ? ` (${(e as { code?: string }).code})` : ''}`,
      {
        where: whereOf(origin, field),
        hint: isPublic ? 'that is the public key: the private one signs (signing.key)' : undefined,
      },
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') throw notEd25519(origin, field, 'private', key.asymmetricKeyType);
  return { key, fingerprint: fingerprintOf(createPublicKey(key)), source: sourceOf(origin) };
}

export async function readSigningKey(file: string, field = 'signing-key'): Promise<SigningKey> {
  return parseSigningKey(await readKeyFile(file, field), { file }, field);
}

export interface PublicKey {
  key: KeyObject;
  fingerprint: string;
  source: string;
}

export function parsePublicKey(pem: string, origin: KeyOrigin, field = 'public-key'): PublicKey {
  // createPublicKey derives the public half of a private PEM too: an auditor should never hold that
  if (/PRIVATE KEY/.test(pem)) {
    throw new UserError('BAD_KEY', `${sourceOf(origin)} is a private key: verify with the public one (signing.pub)`, {
      where: whereOf(origin, field),
    });
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new UserError('BAD_KEY', `${sourceOf(origin)} is not a PEM public key (${(e as Error).message})`, {
      where: whereOf(origin, field),
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw notEd25519(origin, field, 'public', key.asymmetricKeyType);
  return { key, fingerprint: fingerprintOf(key), source: sourceOf(origin) };
}

export async function readPublicKey(file: string, field = 'public-key'): Promise<PublicKey> {
  return parsePublicKey(await readKeyFile(file, field), { file }, field);
}

async function readKeyFile(file: string, field: string): Promise<string> {
  return readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError('BAD_KEY', `cannot read the key file: ${e.code ?? e.message}`, { where: { file, field } });
  });
}

/** The signature file's text: base64 of the 64 signature bytes, one line. */
export function signText(text: string, k: SigningKey): string {
  return `${sign(null, Buffer.from(text, 'utf8'), k.key).toString('base64')}\n`;
}

export function signatureValid(data: Buffer, signatureFile: Buffer, k: PublicKey): boolean {
  const b64 = signatureFile.toString('utf8').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const sig = Buffer.from(b64, 'base64');
  return sig.length === 64 && verify(null, data, k.key, sig);
}
