import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoPlaintextData } from '../../testing/age-keys.js';
import { runCli } from '../../testing/cli.js';
import { readZipEntries } from '../../testing/zip-entries.js';

/**
 * `astm53b rehearse --encrypt-to … --identity …` with keys from `astm53b keys new`: the backup is
 * encrypted as the PROD workflow's is, decide's verified-backup gate and the bundle's facts work on
 * the ciphertext, the NO-GO rollback decrypts it, and no plaintext data file reaches the folder or
 * the bundle.
 */
describe('astm53b rehearse with an encrypted backup', () => {
  let cwd: string;
  let r: { code: number; stdout: string; stderr: string };
  const results = () => path.join(cwd, '.astm53b/rehearsal/astm53b-results');
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'astm53b-rehearse-encrypted-'));
    expect((await runCli(['keys', 'new', '--out', 'keys'], { cwd })).code).toBe(0);
    const recipient = (await readFile(path.join(cwd, 'keys/age.pub'), 'utf8')).trim();
    r = await runCli(['rehearse', '--encrypt-to', recipient, '--identity', 'keys/age.key', '--signing-key', 'keys/signing.key'], {
      cwd,
      env: {},
    });
  }, 240_000);
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('runs every step as without encryption, the rollback included', () => {
    expect(r.stderr).not.toMatch(/internal error/);
    // the runbook as written ends NO-GO (exit 1), which is what makes the rollback run
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Decision: NO-GO /m);
    const steps = [...r.stdout.matchAll(/^ {2}(ok {2}|FAIL) {2}(\S+)/gm)].map((m) => `${m[2]} ${m[1]!.trim()}`);
    expect(steps.filter((s) => /^(backup|sql-apply|rollback|evidence) /.test(s))).toEqual([
      'backup ok',
      'sql-apply ok',
      'rollback ok',
      'evidence ok',
    ]);
  });

  it('decide found the encrypted backup verified (its gate re-hashes the ciphertext), and the bundle archives it', async () => {
    const d = JSON.parse(await readFile(path.join(results(), 'decision.json'), 'utf8'));
    expect(d.inputs.find((i: { name: string }) => i.name === 'backup')).toMatchObject({ status: 'passed' });
    expect(d.reasons.map((x: { condition: string }) => x.condition)).not.toContain('NO_VERIFIED_BACKUP');
    const bundle = await readZipEntries(path.join(cwd, '.astm53b/rehearsal/astm53b-evidence.zip'));
    const m = JSON.parse(bundle.get('manifest.json')!.toString('utf8'));
    const dump = m.runbook57.items.find((i: { item: string }) => i.item === 'Archiver dump backup PROD utilisé');
    expect(dump).toMatchObject({
      present: true,
      evidence: expect.stringMatching(/^results\/backup\/database\.sql\.age [0-9a-f]{64}, restore test passed$/),
    });
    expect(bundle.get('CHANGELOG-entry.md')!.toString('utf8')).toMatch(/chiffré \(age\) ; SHA-256 du dump en clair/);
    const backupEntries = [...bundle.keys()].filter((k) => k.startsWith('results/backup/')).sort();
    for (const k of backupEntries) expect(k).toMatch(/\.age$|manifest\.json$|verification\.json$|\/functions\/[^/]+\.sql$/);
  });

  it('the backup folder holds no plaintext data file, nor does the bundle, which verifies with the public key', async () => {
    await expectNoPlaintextData(path.join(results(), 'backup'), []);
    // the bundle: no table data in clear (every data file of the backup is .age; checked above by name, here by content)
    const bundle = await readZipEntries(path.join(cwd, '.astm53b/rehearsal/astm53b-evidence.zip'));
    for (const [name, bytes] of bundle) {
      if (!name.startsWith('results/backup/') || name.endsWith('.json') || name.includes('/functions/')) continue;
      expect(bytes.subarray(0, 22).toString('latin1'), name).toBe('age-encryption.org/v1\n');
    }
    expect(bundle.has('manifest.json.sig')).toBe(true);
    const v = await runCli(['evidence', 'verify', '.astm53b/rehearsal/astm53b-evidence.zip', '--public-key', 'keys/signing.pub'], {
      cwd,
      env: {},
    });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^VERIFIED: /);
    expect(v.stdout).toMatch(/authenticity SIGNED/);
    // and the rehearsal itself verified it with the public half of the key it signed with
    expect(r.stdout).toMatch(/^ {2}ok {4}evidence .*verified$/m);
  });

  it('the same bundle checked with another depot’s public key fails its authenticity', async () => {
    const other = await runCli(['keys', 'new', '--out', 'other'], { cwd });
    expect(other.code).toBe(0);
    const v = await runCli(['evidence', 'verify', '.astm53b/rehearsal/astm53b-evidence.zip', '--public-key', 'other/signing.pub'], {
      cwd,
      env: {},
    });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/authenticity FAILED/);
  });

  it('--encrypt-to without --identity is refused before the demo database is touched', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'astm53b-rehearse-refused-'));
    const recipient = (await readFile(path.join(cwd, 'keys/age.pub'), 'utf8')).trim();
    const x = await runCli(['rehearse', '--encrypt-to', recipient], { cwd: empty, env: {} });
    expect(x.code).toBe(2);
    expect(x.stderr).toMatch(/MISSING_OPTION: field identity: --encrypt-to and --identity go together/);
    expect(existsSync(path.join(empty, '.astm53b'))).toBe(false);
    await rm(empty, { recursive: true, force: true });
  });
});
