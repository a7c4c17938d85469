import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { leaks, runActionWith } from '../testing/action.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { backupAction, rollbackAction } from './backup-actions.js';
import { expectNoPlaintextData, makeAgeKey } from '../testing/age-keys.js';

/** The backup and rollback actions as the runner drives them: INPUT_* in, outputs and summary files out, password masked. */
describePg('actions/backup and actions/rollback', () => {
  const fx = useFreshDatabase('action_backup', { fixture: true });
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  const runWith = (action: () => Promise<void>, inputs: Record<string, string>) => runActionWith(action, inputs);

  it('backup verifies, rollback restores; the password appears only in the mask command', async () => {
    const u = new URL(fx().scratch.url);
    u.password = 'Backup4ct10nSecret';
    const b = await runWith(backupAction, { 'database-url': u.toString(), 'output-dir': '$DIR/backup' });
    expect(process.exitCode).toBeUndefined();
    expect(b.output).toMatch(/verified<<.*\ntrue\n/s);
    expect(b.summary).toContain('## Backup ✅ verified');
    const backupDir = path.join(b.dir, 'backup');
    for (const f of await readdir(backupDir, { recursive: true })) {
      const p = path.join(backupDir, String(f));
      if ((await readFile(p).catch(() => undefined))?.includes('Backup4ct10nSecret')) throw new Error(`${f} holds the password`);
    }
    expect(leaks(b.stdout, 'Backup4ct10nSecret')).toEqual([]);

    const r = await runWith(rollbackAction, { 'database-url': u.toString(), 'backup-dir': backupDir, 'output-dir': '$DIR/out' });
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/restored<<.*\ntrue\n/s);
    expect(r.summary).toContain('## Rollback ✅ restored and proven');
    expect(r.summary).toContain('- [ ] Runbook 6.2 step 5: inform the depot team');
    const json = JSON.parse(await readFile(path.join(r.dir, 'out', 'rollback.json'), 'utf8'));
    expect(json.ok).toBe(true);
    expect(JSON.stringify(json)).not.toContain('Backup4ct10nSecret');
  });

  it('encrypt-to leaves only ciphertext in output-dir; rollback decrypts with age-identity, masked; a wrong one fails before anything', async () => {
    const keys = await mkdtemp(path.join(tmpdir(), 'astm53b-action-keys-'));
    const key = await makeAgeKey(keys);
    const other = await makeAgeKey(keys, 'other.key');
    // RUNNER_TEMP: where the action takes and verifies the plaintext, left empty afterwards
    const temp = await mkdtemp(path.join(tmpdir(), 'astm53b-runner-temp-'));
    const b = await runActionWith(
      backupAction,
      { 'database-url': fx().scratch.url, 'output-dir': '$DIR/backup', 'encrypt-to': `${key.recipient}\n` },
      { RUNNER_TEMP: temp },
    );
    expect(process.exitCode).toBeUndefined();
    expect(b.output).toMatch(/encrypted<<.*\ntrue\n/s);
    expect(b.summary).toContain(`🔒 age-encrypted to ${key.recipient}`);
    const backupDir = path.join(b.dir, 'backup');
    await expectNoPlaintextData(backupDir, []);
    expect(await readdir(temp)).toEqual([]);

    const secretLine = (await readFile(key.file, 'utf8')).trim().split('\n').pop()!;
    const wrong = await runWith(rollbackAction, {
      'database-url': fx().scratch.url,
      'backup-dir': backupDir,
      'age-identity': (await readFile(other.file, 'utf8')).trim(),
    });
    expect(process.exitCode).toBe(1);
    expect(wrong.stdout).toMatch(
      /::error::rollback: WRONG_IDENTITY: field age-identity: input age-identity: none of its identities can decrypt/,
    );
    process.exitCode = undefined;
    const r = await runWith(rollbackAction, {
      'database-url': fx().scratch.url,
      'backup-dir': backupDir,
      'age-identity': `# the depot's key\n${secretLine}\n`,
      'output-dir': '$DIR/out',
    });
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/restored<<.*\ntrue\n/s);
    expect(r.stdout).toContain(`::add-mask::${secretLine}`);
    expect(leaks(r.stdout, secretLine)).toEqual([]);
  });

  it('rollback refuses a folder that is not a verified backup, as the user’s fault', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'astm53b-not-a-backup-'));
    const r = await runWith(rollbackAction, { 'database-url': fx().scratch.url, 'backup-dir': empty });
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(/::error::rollback: BACKUP_INCOMPLETE: .*manifest\.json/);
  });
});
