import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { hashFile } from '../../hash.js';
import { verifyBundle } from '../../evidence/verify.js';
import { openZipEntry, readZipDirectory } from '../../evidence/zip-reader.js';
import { writeSyntheticResults } from '../../testing/evidence-results.js';
import { evidenceAction, secretsToScan, splitFileList } from './evidence.js';
import { existsSync } from 'node:fs';
import { newDepotKeys } from '../../crypto/keys.js';
import { readPublicKey } from '../../crypto/signing.js';
import { leaks } from '../../testing/action.js';
import { readZipEntries } from '../../testing/zip-entries.js';

/** The evidence action as the runner drives it: INPUT_* in, outputs and summary out. No database. */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-evidence-action-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  process.exitCode = undefined;
  vi.restoreAllMocks();
});
let n = 0;

async function runWith(inputs: Record<string, string>, opts: Parameters<typeof writeSyntheticResults>[1] = {}) {
  const dir = path.join(root, `r${++n}`);
  await writeSyntheticResults(path.join(dir, 'astm53b-results'), opts);
  mkdirSync(path.join(dir, 'evidence'), { recursive: true });
  writeFileSync(path.join(dir, 'evidence', 'WhatsApp Chat - SEP.txt'), 'SEP: REC-2026-03-01 38123.4 L OK\n');
  const output = path.join(dir, 'output');
  const summary = path.join(dir, 'summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  process.env['INPUT_RESULTS-DIR'] = path.join(dir, 'astm53b-results');
  process.env.INPUT_OUTPUT = path.join(dir, 'bundle.zip');
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v.replaceAll('$DIR', dir);
  Object.assign(process.env, {
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_RUN_ID: '42',
    GITHUB_REPOSITORY: 'depot/astm53b-pipeline',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: 'e'.repeat(40),
    GITHUB_ACTOR: 'ops-lead',
  });
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  await evidenceAction();
  vi.restoreAllMocks();
  return { stdout, output: readFileSync(output, 'utf8'), summary: readFileSync(summary, 'utf8'), zip: path.join(dir, 'bundle.zip') };
}

describe('actions/evidence', () => {
  it('writes the bundle, publishes its path and SHA-256, and keeps the password out of everything', async () => {
    const r = await runWith({
      'sep-files': '$DIR/evidence/WhatsApp Chat - SEP.txt\n',
      'database-url': 'postgresql://app:Act10nSecret@db.example.com:5432/postgres',
      'changelog-pr': 'https://github.com/VALERYkal/ml_pp_mvp/pull/77',
    });
    expect(process.exitCode).toBeUndefined();
    const sha = (await hashFile(r.zip)).sha256;
    expect(r.output).toMatch(new RegExp(`sha256<<.*\\n${sha}\\n`, 's'));
    expect(r.output).toMatch(/bundle-path<<.*\n.*bundle\.zip\n/s);
    expect(r.output).toMatch(/decision<<.*\nGO\n/s);
    expect(r.output).toMatch(/complete<<.*\ntrue\n/s);
    expect(r.summary).toContain(`SHA-256 \`${sha}\``);
    // the job summary opens with the decision, for the depot manager
    expect(r.summary.startsWith('# ASTM 53B migration: GO on ')).toBe(true);
    expect(r.summary).toContain('https://github.com/depot/astm53b-pipeline/actions/runs/42');
    expect((await verifyBundle(r.zip)).ok).toBe(true);
    // ::add-mask:: is how the runner learns what to hide; everything else must not carry it
    const printed = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    expect(r.stdout).toContain('::add-mask::Act10nSecret');
    for (const text of [printed.join('\n'), r.output, r.summary]) expect(text).not.toContain('Act10nSecret');
    for (const e of await readZipDirectory(r.zip)) {
      const chunks: Buffer[] = [];
      for await (const c of await openZipEntry(r.zip, e)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).includes('Act10nSecret'), e.name).toBe(false);
    }
  });

  it('fails a GO whose runbook 5.7 archives are incomplete, after writing the bundle', async () => {
    const r = await runWith({ 'changelog-pr': 'https://github.com/VALERYkal/ml_pp_mvp/pull/77' });
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toContain(
      '::error::evidence: decision GO but runbook 5.7 archives are missing (Archiver confirmation terrain SEP (mail / WhatsApp export))',
    );
    expect(r.output).toMatch(/complete<<.*\nfalse\n/s);
    expect((await verifyBundle(r.zip)).ok).toBe(true);
  });

  it('a NO-GO with missing archives still passes: the bundle records what happened', async () => {
    const r = await runWith({}, { decision: 'NO-GO' });
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/decision<<.*\nNO-GO\n/s);
  });

  it('redact-secrets: a results file holding a secret the workflow passed (the full URL) is refused, not bundled', async () => {
    const url = 'postgresql://app:Redact3dPw@db.example.com:5432/postgres';
    const r = await runWith(
      { 'redact-secrets': `${url}\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n` },
      { smokeNote: `connected to ${url}` },
    );
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(/::error::evidence: SECRET_IN_EVIDENCE: .*smoke\.json.*contains a secret in clear/);
    expect(r.stdout).toContain('::add-mask::Redact3dPw');
    expect(leaks(r.stdout, 'Redact3dPw')).toEqual([]);
    expect(existsSync(r.zip)).toBe(false);
    // the same results without the value to look for: the secret would have been bundled
    process.exitCode = undefined;
    const blind = await runWith({ 'redact-secrets': '' }, { smokeNote: `connected to ${url}`, decision: 'NO-GO' });
    expect(process.exitCode).toBeUndefined();
    expect((await readZipEntries(blind.zip)).get('results/smoke.json')!.toString()).toContain('Redact3dPw');
  });

  it('redact-secrets: a connection string without a password is an address, not a secret: the results naming it are bundled', async () => {
    const url = 'postgresql://postgres@db.example.com:5432/postgres';
    const r = await runWith({ 'redact-secrets': `${url}\n` }, { smokeNote: `connected to ${url}`, decision: 'NO-GO' });
    expect(process.exitCode).toBeUndefined();
    expect((await readZipEntries(r.zip)).get('results/smoke.json')!.toString()).toContain(url);
    expect(secretsToScan(`${url}\npostgresql://app:S3cret%21@h/db\nAGE-SECRET-KEY-1QQQ\n`)).toEqual([
      'S3cret%21',
      'S3cret!',
      'postgresql://app:S3cret%21@h/db',
      'AGE-SECRET-KEY-1QQQ',
    ]);
  });

  it('signing-key: the manifest is signed with the key from the secret, which is masked and verifies with signing.pub', async () => {
    const keys = await newDepotKeys(path.join(root, `keys-${++n}`));
    const pem = readFileSync(path.join(keys.dir, 'signing.key'), 'utf8');
    const r = await runWith({ 'signing-key': pem });
    expect(r.output).toMatch(/signed<<.*\ntrue\n/s);
    const body = pem.split('\n')[1]!;
    expect(r.stdout).toContain(`::add-mask::${body}`);
    expect(leaks(r.stdout, body)).toEqual([]);
    const v = await verifyBundle(r.zip, { publicKey: await readPublicKey(path.join(keys.dir, 'signing.pub')) });
    expect(v.authenticity).toMatchObject({ valid: true, manifestKey: keys.signingFingerprint });
    expect(v.ok).toBe(true);
    const unsigned = await runWith({ 'signing-key': '' });
    expect(unsigned.output).toMatch(/signed<<.*\nfalse\n/s);
    expect(unsigned.stdout).toMatch(/::warning::evidence: no signing-key: the bundle is NOT signed/);
    const bad = await runWith({ 'signing-key': readFileSync(path.join(keys.dir, 'signing.pub'), 'utf8') });
    expect(bad.stdout).toMatch(
      /::error::evidence: BAD_KEY: field signing-key: input signing-key is not a PEM private key.*\(that is the public key/,
    );
    expect(bad.stdout).not.toMatch(/file=input/);
  });

  it('splits SEP file lists on lines, commas or (the dispatch form) spaces, keeping spaces inside names that exist', () => {
    const files = new Set(['evidence/WhatsApp Chat - SEP.txt', 'evidence/mail.eml', 'evidence/b.eml', 'evidence/slip.pdf']);
    const exists = (f: string) => files.has(f);
    expect(splitFileList('evidence/WhatsApp Chat - SEP.txt\nevidence/mail.eml, evidence/b.eml\n\n', exists)).toEqual([
      'evidence/WhatsApp Chat - SEP.txt',
      'evidence/mail.eml',
      'evidence/b.eml',
    ]);
    expect(splitFileList('evidence/mail.eml evidence/slip.pdf', exists)).toEqual(['evidence/mail.eml', 'evidence/slip.pdf']);
    expect(splitFileList('evidence/WhatsApp Chat - SEP.txt,evidence/b.eml', exists)).toEqual([
      'evidence/WhatsApp Chat - SEP.txt',
      'evidence/b.eml',
    ]);
    // one part missing: kept as typed, so the error names what the user typed
    expect(splitFileList('evidence/mail.eml evidence/gone.eml', exists)).toEqual(['evidence/mail.eml evidence/gone.eml']);
  });
});
