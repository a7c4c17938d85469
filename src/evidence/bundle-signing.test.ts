import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDepotKeys, type DepotKeys } from '../crypto/keys.js';
import { parseSigningKey, readPublicKey, signText, type SigningKey } from '../crypto/signing.js';
import { runCli } from '../testing/cli.js';
import { writeSyntheticResults } from '../testing/evidence-results.js';
import { readZipEntries, writeZipEntries } from '../testing/zip-entries.js';
import { renderSums } from './manifest.js';
import { verifyBundle } from './verify.js';

/**
 * The bundle's authenticity: manifest.json signed with the depot's Ed25519 key (manifest.json.sig),
 * checked by `evidence verify --public-key`. The attack it answers: someone with write access turns
 * NO-GO into GO in decision.json and recomputes manifest.json and SHA256SUMS; the hashes then agree,
 * and only the signature can tell. Built from a real rehearsal's results (src/testing/results.ts).
 */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-signing-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let keys: DepotKeys;
let signed: string;
let unsigned: string;
const pub = () => path.join(keys.dir, 'signing.pub');
const sk = () => path.join(keys.dir, 'signing.key');

beforeAll(async () => {
  keys = await newDepotKeys(path.join(root, 'keys'));
  const results = path.join(root, 'astm53b-results');
  await writeSyntheticResults(results, { decision: 'NO-GO' });
  signed = path.join(root, 'signed.zip');
  unsigned = path.join(root, 'unsigned.zip');
  const a = await runCli(['evidence', 'build', '--results', results, '--out', signed, '--signing-key', sk()]);
  expect(a.code, a.stderr).toBe(0);
  expect(a.stdout).toContain(`manifest.json signed by ${keys.signingFingerprint}`);
  const b = await runCli(['evidence', 'build', '--results', results, '--out', unsigned]);
  expect(b.stdout).toContain('NOT signed');
}, 120_000);

/** What an insider does: NO-GO → GO in decision.json, every hash recomputed; `sign`: and re-signed with their own key. */
async function insiderEdit(
  from: string,
  opts: { sign?: SigningKey; dropSignature?: boolean; keepManifest?: boolean } = {},
): Promise<string> {
  const e = await readZipEntries(from);
  const decision = JSON.parse(e.get('results/decision.json')!.toString('utf8'));
  expect(decision.decision).toBe('NO-GO');
  e.set('results/decision.json', Buffer.from(`${JSON.stringify({ ...decision, decision: 'GO', reasons: [] }, null, 2)}\n`));
  let manifestText = e.get('manifest.json')!.toString('utf8');
  if (!opts.keepManifest) {
    const m = JSON.parse(manifestText);
    m.decision = 'GO';
    m.files = m.files.map((f: { path: string }) => ({ ...f, bytes: e.get(f.path)!.length, sha256: sha(e.get(f.path)!) }));
    if (opts.dropSignature || opts.sign) m.signature = opts.sign ? { ...m.signature, publicKeyFingerprint: opts.sign.fingerprint } : null;
    manifestText = `${JSON.stringify(m, null, 2)}\n`;
    e.set('manifest.json', Buffer.from(manifestText));
    if (opts.sign) e.set('manifest.json.sig', Buffer.from(signText(manifestText, opts.sign)));
    if (opts.dropSignature) e.delete('manifest.json.sig');
  }
  const listed = JSON.parse(manifestText).files as { path: string }[];
  const sums = [...listed, { path: 'manifest.json' }, ...(e.has('manifest.json.sig') ? [{ path: 'manifest.json.sig' }] : [])].map((f) => ({
    path: f.path,
    sha256: sha(e.get(f.path)!),
  }));
  e.set('SHA256SUMS', Buffer.from(renderSums(sums)));
  const out = path.join(root, `insider-${Math.random().toString(36).slice(2)}.zip`);
  await writeZipEntries(out, e);
  return out;
}

describe('a signed evidence bundle', () => {
  it('carries manifest.json.sig, names its key in manifest.json, and lists the signature in SHA256SUMS', async () => {
    const e = await readZipEntries(signed);
    const m = JSON.parse(e.get('manifest.json')!.toString('utf8'));
    expect(m.format).toBe('astm53b-evidence/2');
    expect(m.signature).toEqual({ algorithm: 'Ed25519', publicKeyFingerprint: keys.signingFingerprint, file: 'manifest.json.sig' });
    expect(e.get('SHA256SUMS')!.toString('utf8')).toContain(`${sha(e.get('manifest.json.sig')!)}  manifest.json.sig\n`);
    // openssl alone can check it: the signature is over manifest.json's exact bytes
    const { verify } = await import('node:crypto');
    const sig = Buffer.from(e.get('manifest.json.sig')!.toString('utf8').trim(), 'base64');
    expect(verify(null, e.get('manifest.json')!, readFileSync(pub(), 'utf8'), sig)).toBe(true);
  });

  it('verifies with the public key, saying who signed it (text and JSON)', async () => {
    const text = await runCli(['evidence', 'verify', signed, '--public-key', pub()]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^VERIFIED: /);
    expect(text.stdout).toContain(`authenticity SIGNED: manifest.json is signed by ${keys.signingFingerprint}`);
    const json = JSON.parse((await runCli(['evidence', 'verify', signed, '--public-key', pub(), '--json'])).stdout);
    expect(json.authenticity).toMatchObject({ checked: true, signed: true, valid: true, givenKey: keys.signingFingerprint });
  });

  it('without --public-key it still verifies the hashes but says plainly that authenticity was not checked', async () => {
    const text = await runCli(['evidence', 'verify', signed]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/authenticity NOT CHECKED: authenticity NOT checked \(no --public-key\)/);
    const json = JSON.parse((await runCli(['evidence', 'verify', signed, '--json'])).stdout);
    expect(json.authenticity).toMatchObject({ checked: false, signed: true, valid: null });
    expect(json.authenticity.statement).toMatch(/NOT checked/);
  });

  it('the insider re-hash attack: NO-GO → GO with manifest.json and SHA256SUMS recomputed passes the hashes, and is caught by the signature', async () => {
    const forged = await insiderEdit(signed);
    const plain = await verifyBundle(forged);
    // exactly the weakness: every hash agrees, the decision now reads GO
    expect(plain.problems).toEqual([]);
    expect(plain.ok).toBe(true);
    expect(plain.manifest?.decision).toBe('GO');
    expect(plain.authenticity.checked).toBe(false);
    const checked = await runCli(['evidence', 'verify', forged, '--public-key', pub(), '--json']);
    expect(checked.code).toBe(1);
    const r = JSON.parse(checked.stdout);
    expect(r.ok).toBe(false);
    expect(r.authenticity).toMatchObject({ valid: false, statement: expect.stringMatching(/changed after it was signed/) });
    expect(r.problems).toEqual([{ path: 'manifest.json.sig', kind: 'signature', problem: r.authenticity.statement }]);
  });

  it('the signed manifest kept, decision.json and SHA256SUMS changed: the file differs from what the signed manifest lists', async () => {
    const forged = await insiderEdit(signed, { keepManifest: true });
    const r = await verifyBundle(forged, { publicKey: await readPublicKey(pub()) });
    expect(r.ok).toBe(false);
    expect(r.authenticity.valid).toBe(true);
    expect(r.problems).toEqual([
      { path: 'results/decision.json', kind: 'changed', problem: expect.stringMatching(/manifest\.json says [0-9a-f]{64}/) },
    ]);
  });

  it('re-signed with the insider’s own key, or with the signature stripped: refused', async () => {
    const own = generateKeyPairSync('ed25519');
    const mine = parseSigningKey(own.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { file: 'insider.key' });
    const resigned = await verifyBundle(await insiderEdit(signed, { sign: mine }), { publicKey: await readPublicKey(pub()) });
    expect(resigned.ok).toBe(false);
    expect(resigned.authenticity.statement).toContain(`says it was signed by ${mine.fingerprint}; the key given`);
    const stripped = await verifyBundle(await insiderEdit(signed, { dropSignature: true }), { publicKey: await readPublicKey(pub()) });
    expect(stripped.ok).toBe(false);
    expect(stripped.authenticity).toMatchObject({ signed: false, valid: false, statement: expect.stringMatching(/not signed/) });
  });

  it('a format 1 bundle (from before signatures) still verifies its hashes, and cannot pass a check of authenticity', async () => {
    const e = await readZipEntries(unsigned);
    const m = JSON.parse(e.get('manifest.json')!.toString('utf8'));
    delete m.signature;
    const text = `${JSON.stringify({ ...m, format: 'astm53b-evidence/1' }, null, 2)}\n`;
    e.set('manifest.json', Buffer.from(text));
    e.set('SHA256SUMS', Buffer.from(renderSums([...m.files, { path: 'manifest.json', sha256: sha(text) }])));
    const old = path.join(root, 'format-1.zip');
    await writeZipEntries(old, e);
    const r = await verifyBundle(old);
    expect(r).toMatchObject({ ok: true, problems: [], authenticity: { checked: false, signed: false } });
    expect((await verifyBundle(old, { publicKey: await readPublicKey(pub()) })).ok).toBe(false);
  });

  it('an unsigned bundle fails a check with the public key; verify refuses a private key or a non-Ed25519 key as --public-key', async () => {
    const r = await runCli(['evidence', 'verify', unsigned, '--public-key', pub()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/authenticity FAILED: the bundle is not signed/);
    const priv = await runCli(['evidence', 'verify', signed, '--public-key', sk()]);
    expect(priv.code).toBe(2);
    expect(priv.stderr).toMatch(/BAD_KEY: .*signing\.key.*private key/);
    const rsa = path.join(root, 'rsa.pub');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const wrongType = await runCli(['evidence', 'verify', signed, '--public-key', rsa]);
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toMatch(/not an Ed25519 public key \(found rsa\)/);
  });
});
