import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityToRecipient } from 'age-encryption';
import { readIdentityFile } from '../../crypto/age.js';
import { readPublicKey, readSigningKey, signText, signatureValid } from '../../crypto/signing.js';
import { runCli } from '../../testing/cli.js';

/** `astm53b keys new`: a depot's four key files, private ones 0600, never overwritten, and what goes where. */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mode = (f: string) => statSync(f).mode & 0o777;

describe('astm53b keys new', () => {
  const dir = path.join(root, 'depot');
  it('writes age.key and signing.key 0600, age.pub and signing.pub 0644, in a folder of its own (0700)', async () => {
    const r = await runCli(['keys', 'new', '--out', dir], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['age.key', 'age.pub', 'signing.key', 'signing.pub']);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'age.key'))).toBe(0o600);
    expect(mode(path.join(dir, 'signing.key'))).toBe(0o600);
    expect(mode(path.join(dir, 'age.pub'))).toBe(0o644);
    expect(mode(path.join(dir, 'signing.pub'))).toBe(0o644);
  });

  it('the files are a working pair each: the age.pub is the age.key’s recipient, signing.pub checks what signing.key signs', async () => {
    const id = await readIdentityFile(path.join(dir, 'age.key'));
    expect(id.identities).toHaveLength(1);
    const recipient = readFileSync(path.join(dir, 'age.pub'), 'utf8').trim();
    expect(await identityToRecipient(id.identities[0]!)).toBe(recipient);
    // the layout age-keygen writes, so `age -d -i age.key` reads it
    expect(readFileSync(path.join(dir, 'age.key'), 'utf8')).toMatch(/^# created: .*\n# public key: age1\w+\nAGE-SECRET-KEY-1[0-9A-Z]+\n$/);
    const sk = await readSigningKey(path.join(dir, 'signing.key'));
    const pk = await readPublicKey(path.join(dir, 'signing.pub'));
    expect(pk.fingerprint).toBe(sk.fingerprint);
    const sig = signText('manifest', sk);
    expect(signatureValid(Buffer.from('manifest'), Buffer.from(sig), pk)).toBe(true);
  });

  it('says which file goes into which secret or variable, what may be committed, and never prints a private key', async () => {
    const other = path.join(root, 'printed');
    const r = await runCli(['keys', 'new', '--out', other], { cwd: root });
    expect(r.stdout).toMatch(/age\.key .*SECRET \(0600\) → GitHub secret AGE_IDENTITY/);
    expect(r.stdout).toMatch(/signing\.key .*SECRET \(0600\) → GitHub secret EVIDENCE_SIGNING_KEY/);
    expect(r.stdout).toMatch(/age\.pub .*GitHub variable AGE_RECIPIENT.*may be committed/);
    expect(r.stdout).toMatch(/signing\.pub .*commit it/);
    expect(r.stdout).toContain(readFileSync(path.join(other, 'age.pub'), 'utf8').trim());
    expect(r.stdout).toMatch(/unrecoverable/);
    const ageKey = readFileSync(path.join(other, 'age.key'), 'utf8').trim().split('\n').pop()!;
    expect(r.stdout + r.stderr).not.toContain(ageKey);
    expect(r.stdout + r.stderr).not.toContain('PRIVATE KEY');
  });

  it('refuses to overwrite any key file, leaving every file as it was', async () => {
    const before = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
    const again = await runCli(['keys', 'new', '--out', dir], { cwd: root });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/KEY_EXISTS: .*age\.key: .* already exists/);
    expect(Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]))).toEqual(before);
    // one file of a set is enough to refuse: nothing is added beside it
    const partial = path.join(root, 'partial');
    mkdirSync(partial);
    writeFileSync(path.join(partial, 'signing.pub'), 'kept\n');
    const p = await runCli(['keys', 'new', '--out', partial], { cwd: root });
    expect(p.code).toBe(2);
    expect(readdirSync(partial)).toEqual(['signing.pub']);
    expect((await runCli(['keys', 'new'], { cwd: root })).stderr).toMatch(/MISSING_OPTION/);
  });
});
