import { BACKUP_FILES } from '../results/files.js';
import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { DEFAULT_COMPRESSION } from '../db/dump.js';
import { withDb } from '../db/open.js';
import { secretsOf } from '../db/secrets.js';
import { assertSessionCapable, resolveTarget } from '../db/target.js';
import { backup } from '../runbook/backup/index.js';
import { rollback } from '../runbook/rollback.js';
import { UserError } from '../errors.js';
import { readPublicKey } from '../crypto/signing.js';
import { renderBackupMarkdown, renderRollbackMarkdown } from '../report/backup.js';
import { readDatabaseUrl, readInputs, TimeoutInputs } from './inputs.js';
import { parseTimeouts } from '../runbook/timeouts.js';
import { runContextFrom } from '../results/run-context.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from './results.js';
import { parseIdentities, type AgeIdentities } from '../crypto/age.js';
import { runAction } from './run.js';

/** Runbook 3.1/4.2 (backup, verified by a restore) and 6.2 (rollback from it): action bodies. */

const BackupInputs = z.object({
  'output-dir': z.string().default('astm53b-results/backup'),
  compress: z.string().default(DEFAULT_COMPRESSION),
  /** age recipients, newline or comma separated (e.g. ${{ vars.AGE_RECIPIENT }}); empty: stored in clear */
  'encrypt-to': z.string().default(''),
});

export function backupAction(): Promise<void> {
  return runAction('backup', async (log) => {
    const url = readDatabaseUrl();
    const scratch = core.getInput('scratch-url').trim();
    for (const s of scratch ? secretsOf(scratch) : []) core.setSecret(s);
    const inputs = readInputs(BackupInputs);
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'backup');
    const r = await withDb(target, (db) =>
      backup(
        db,
        {
          outDir: inputs['output-dir'],
          compress: inputs.compress,
          encryptTo: [inputs['encrypt-to']],
          ...(scratch ? { scratchUrl: scratch } : {}),
        },
        log,
      ),
    );
    core.setOutput('verified', String(r.ok));
    core.setOutput('encrypted', String(r.manifest.encryption !== null));
    core.setOutput('backup-dir', r.dir);
    core.setOutput('verification-file', path.join(r.dir, BACKUP_FILES.verification.file));
    await core.summary.addRaw(renderBackupMarkdown(r)).write();
    if (!r.ok) return { failure: `the backup did not verify: ${r.verification.failures[0] ?? 'see verification.json'}` };
    return undefined;
  });
}

const RollbackInputs = z.object({
  'backup-dir': z.string().min(1),
  'allow-other-source': z.string().optional(),
  replay: z.enum(['true', 'false']).default('false'),
  'go-bundle': z.string().optional(),
  'public-key': z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  ...TimeoutInputs,
});

/**
 * The age identity arrives as the content of a secret (`${{ secrets.AGE_IDENTITY }}`), never as
 * a file in the workspace: each line is masked before anything can print it.
 */
function readIdentityInput(name = 'age-identity'): AgeIdentities | undefined {
  const text = core.getInput(name);
  if (!text.trim()) return undefined;
  // comments (`# public key: age1…`) are public; every other line is a key
  for (const line of text.split(/\r?\n/)) if (line.trim() && !line.trim().startsWith('#')) core.setSecret(line.trim());
  return parseIdentities(text, { input: name }, name);
}

export function rollbackAction(): Promise<void> {
  return runAction('rollback', async (log) => {
    const url = readDatabaseUrl();
    const identity = readIdentityInput();
    const inputs = readInputs(RollbackInputs);
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'rollback');
    const timeouts = parseTimeouts({ ...inputs, 'statement-timeout-ms': inputs['statement-timeout-ms'] ?? '900000' });
    const other = inputs['allow-other-source'];
    const goBundle = inputs['go-bundle'];
    // anyone can rebuild an unsigned bundle around another backup: the GO counts only signed by the depot
    if (goBundle && !inputs['public-key'])
      throw new UserError('MISSING_INPUT', "go-bundle needs public-key (the depot's signing.pub): an unsigned bundle proves nothing", {
        where: { field: 'public-key' },
      });
    const publicKey = inputs['public-key'] ? await readPublicKey(inputs['public-key']) : undefined;
    const opts = {
      backupDir: inputs['backup-dir'],
      run: runContextFrom(process.env),
      ...timeouts,
      ...(other ? { allowOtherSource: other } : {}),
      ...(identity ? { identity } : {}),
      resultsDir: inputs['output-dir'],
      replay: inputs.replay === 'true',
      ...(goBundle ? { goBundle: { file: goBundle, ...(publicKey ? { publicKey } : {}) } } : {}),
    };
    const r = await withDb(target, (db) => rollback(db, opts, log));
    await publishResult(inputs['output-dir'], 'rollback', r);
    core.setOutput('restored', String(r.ok));
    const late = r.lateRollback?.counts;
    core.setOutput('movements-since-backup', String(late?.sinceBackup ?? 0));
    core.setOutput('movements-to-reenter', String(late?.remaining ?? 0));
    await core.summary.addRaw(renderRollbackMarkdown(r)).write();
    if (!r.ok) return { failure: `rollback failed${r.committed ? '' : ' (nothing changed)'}: ${r.failures[0] ?? 'see rollback.json'}` };
    const stop = r.lateRollback?.replay?.stoppedAt;
    if (stop)
      return {
        failure: `restored, but the replay stopped at movement #${stop.seq} (${stop.kind} ${stop.id}): ${stop.message}; ${late?.remaining} to enter by hand`,
      };
    return undefined;
  });
}
