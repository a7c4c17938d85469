import path from 'node:path';
import { UserError } from '../../errors.js';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { DEFAULT_COMPRESSION } from '../../db/dump.js';
import { backup, verifyBackup } from '../../runbook/backup/index.js';
import { rollback } from '../../runbook/rollback.js';
import { renderBackupText, renderRollbackText, renderVerificationText } from '../../report/backup.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../command.js';
import { resolveUrlOption } from '../url-option.js';
import { pathExists } from './db.js';
import { flagOption, listOption, pathOption, stringOption } from '../options.js';
import { readIdentityFile, type AgeIdentities } from '../../crypto/age.js';
import { readPublicKey } from '../../crypto/signing.js';
import { jsonOption, runOf, runOptions, timeoutOptions, timeoutsOf } from '../run-options.js';
import { jsonText, writeResult } from '../../results/io.js';

const targetUrl: OptionSpec = {
  type: 'string',
  valueName: 'URL',
  description:
    'the PostgreSQL to back up or restore (postgresql://…, or env:NAME); without it, the embedded database (PGlite dump tool, plain SQL)',
};
const scratchUrlOption: OptionSpec = {
  type: 'string',
  valueName: 'URL',
  description: 'an empty database to restore into for the proof (default: one created and dropped on the --url server)',
};

/** --url: a real server (pg_dump/pg_restore); without it the embedded database, which must exist. */
async function stepTarget(ctx: CommandContext, step: string) {
  const target = resolveTarget({ url: stringOption(ctx, 'url'), cwd: ctx.cwd });
  assertSessionCapable(target, step);
  if (target.kind === 'embedded' && !(await pathExists(target.dataDir))) {
    throw new UserError('NO_DATABASE', `no embedded database in ${path.relative(ctx.cwd, target.dataDir)}`, {
      hint: 'run astm53b db init first, or pass --url',
    });
  }
  return target;
}

const identityOption: OptionSpec = {
  type: 'string',
  valueName: 'FILE',
  description: "the depot's age identity (age.key): needed for a backup taken with --encrypt-to, decrypted as it is read, never to disk",
};

async function identityOf(ctx: CommandContext): Promise<AgeIdentities | undefined> {
  const file = pathOption(ctx, 'identity');
  return file ? readIdentityFile(file) : undefined;
}

function scratchUrl(ctx: CommandContext): string | undefined {
  const v = stringOption(ctx, 'scratch-url');
  if (!v) return undefined;
  const url = resolveUrlOption(v, ctx.env);
  resolveTarget({ url, cwd: ctx.cwd }); // validates it as a connection string, masked in errors
  return url;
}

export const backupCommand: CommandSpec = {
  name: 'backup',
  summary: 'runbook 3.1/4.2: full dump, both functions, three table snapshots, hashed, then restored into a scratch database and compared',
  details:
    'Everything is read from one database snapshot. The step succeeds only when the restored copy equals the source\n' +
    '(every application table, both functions, triggers, policies, grants, columns, constraints, indexes) and each CSV\n' +
    'snapshot equals the same rows exported from the restored copy. manifest.json records which database it came from\n' +
    '(system identifier, database OID, Supabase project ref). With --encrypt-to, everything is taken and verified in a\n' +
    'private folder of the temporary space (RUNNER_TEMP, else TMPDIR), then the dump, the CSV snapshots and auth-users.json\n' +
    'are age-encrypted into DIR (*.age) and their plaintext deleted: DIR never holds a plaintext data file. manifest.json\n' +
    'records the SHA-256 of both. Without the matching age.key such a backup can be neither verified again nor restored.\n' +
    'A file that cannot be written (full disk, quota, I/O error) stops the step at once, naming it: pg_dump and\n' +
    'pg_restore stopped, the scratch database dropped, no manifest.json.\n' +
    'Exit code 0 when verified, 1 when the verification failed (verification.json says why), 2 on a write error.',
  options: {
    url: targetUrl,
    out: { type: 'string', valueName: 'DIR', description: 'new, empty folder for the backup' },
    'scratch-url': scratchUrlOption,
    compress: {
      type: 'string',
      valueName: 'C',
      description: `pg_dump --compress: a gzip level 0-9, or on pg_dump 16+ lz4|zstd[:level] (default ${DEFAULT_COMPRESSION}: fast, the freeze window is downtime)`,
    },
    'encrypt-to': {
      type: 'string',
      multiple: true,
      valueName: 'RECIPIENT',
      description: "age recipient (age1…, the depot's age.pub) the data files are encrypted to; repeatable",
    },
    json: jsonOption,
  },
  async run(ctx) {
    const out = stringOption(ctx, 'out');
    if (!out) throw new UserError('MISSING_OPTION', 'backup needs --out DIR (a new, empty folder)', { where: { field: 'out' } });
    const scratch = scratchUrl(ctx);
    const compress = stringOption(ctx, 'compress');
    return withDb(await stepTarget(ctx, 'backup'), async (db) => {
      const r = await backup(
        db,
        {
          outDir: out,
          ...(scratch ? { scratchUrl: scratch } : {}),
          ...(compress ? { compress } : {}),
          encryptTo: listOption(ctx, 'encrypt-to'),
          env: ctx.env,
        },
        ctx.log,
      );
      ctx.out(
        flagOption(ctx, 'json')
          ? jsonText({ dir: r.dir, ok: r.ok, ms: r.ms, warnings: r.warnings, verification: r.verification })
          : renderBackupText(r),
      );
      return r.ok ? 0 : 1;
    });
  },
};

export const backupVerifyCommand: CommandSpec = {
  name: 'backup verify',
  summary:
    're-check a backup folder: every hash, then a fresh restore into a scratch database, the comparison, and the CSV snapshots against the restored rows',
  details:
    'Rewrites DIR/verification.json, which lists every file it re-hashed. An encrypted backup needs --identity: its files are\n' +
    'decrypted as they are read and must decrypt to the plaintext SHA-256 manifest.json records. Exit code 0 when verified, 1 otherwise.',
  positionals: [{ name: 'DIR', description: 'the backup folder', required: true }],
  options: {
    url: {
      type: 'string',
      valueName: 'URL',
      description: 'a server where a scratch database can be created (postgresql://…, or env:NAME); not needed for an embedded backup',
    },
    'scratch-url': scratchUrlOption,
    identity: identityOption,
    json: jsonOption,
  },
  async run(ctx) {
    const serverUrl = stringOption(ctx, 'url');
    if (serverUrl) resolveTarget({ url: serverUrl, cwd: ctx.cwd });
    const scratch = scratchUrl(ctx);
    const identity = await identityOf(ctx);
    const v = await verifyBackup(
      path.resolve(ctx.cwd, ctx.positionals[0]!),
      { ...(serverUrl ? { serverUrl } : {}), ...(scratch ? { scratchUrl: scratch } : {}), ...(identity ? { identity } : {}), env: ctx.env },
      ctx.log,
    );
    ctx.out(flagOption(ctx, 'json') ? jsonText(v) : renderVerificationText(v));
    return v.ok ? 0 : 1;
  },
};

export const rollbackCommand: CommandSpec = {
  name: 'rollback',
  summary: 'runbook 6.2: restore the application schemas from a verified backup of this database, in one transaction proven before COMMIT',
  details:
    'Refuses a backup folder that was never verified, whose files changed since, or that is of another database. Freezes\n' +
    'entries if they were not (runbook 6.2 step 1) and keeps them frozen. Restores public (and astm) only, never auth,\n' +
    'storage or the pipeline records; no DB-STRICT guard is disabled. Says per table what the restore discards, marks the\n' +
    'change files it undid in the ledger. If the restored database does not equal the backup, or a lock cannot be had in\n' +
    'time, everything is rolled back. Exit code 0 when the target equals the backup again.\n' +
    'A late rollback (runbook 6.1: a field complaint within 24 h of a GO) loses nothing: every reception, sortie and\n' +
    'adjustment entered since the backup (found by comparing each changed table with the backup by primary key) is\n' +
    'exported into --out/late-rollback/ (CSV and JSON, hashed; age-encrypted when the backup is) before COMMIT, and\n' +
    'listed per tank and day. With --replay each one is entered again after the restore, in order, as the user who\n' +
    'entered it, with the legacy 15 °C value; one the database refuses stops the replay there (exit 1), the rest listed.',
  options: {
    url: targetUrl,
    backup: { type: 'string', valueName: 'DIR', description: 'the verified backup folder' },
    'allow-other-source': {
      type: 'string',
      valueName: 'REASON',
      description: 'restore a backup of another database on purpose (e.g. a PROD dump into a copy of PROD); the reason is recorded',
    },
    identity: identityOption,
    out: {
      type: 'string',
      valueName: 'DIR',
      description: 'results folder: rollback.json and late-rollback/ (the movements since the backup, exported before COMMIT)',
    },
    replay: { type: 'boolean', description: 're-enter every exported movement through the app’s paths after the restore (needs --out)' },
    'go-bundle': {
      type: 'string',
      valueName: 'FILE',
      description:
        'a late rollback: the GO run’s evidence bundle; it must verify, record GO and hold this backup’s manifest, or nothing is touched',
    },
    'public-key': { type: 'string', valueName: 'FILE', description: 'the depot’s signing.pub: the --go-bundle’s signature must hold' },
    ...timeoutOptions,
    'statement-timeout-ms': {
      type: 'string',
      valueName: 'MS',
      description: 'statement_timeout of each statement of the restore',
      default: '900000',
    },
    ...runOptions,
    json: jsonOption,
  },
  async run(ctx) {
    const dir = stringOption(ctx, 'backup');
    if (!dir) throw new UserError('MISSING_OPTION', 'rollback needs --backup DIR', { where: { field: 'backup' } });
    const timeouts = timeoutsOf(ctx);
    const run = runOf(ctx);
    const other = stringOption(ctx, 'allow-other-source');
    const identity = await identityOf(ctx);
    const out = stringOption(ctx, 'out');
    const replay = flagOption(ctx, 'replay');
    if (replay && !out)
      throw new UserError('MISSING_OPTION', '--replay needs --out DIR (the export it replays)', { where: { field: 'out' } });
    const resultsDir = out ? path.resolve(ctx.cwd, out) : undefined;
    const goBundle = pathOption(ctx, 'go-bundle');
    const keyFile = pathOption(ctx, 'public-key');
    if (keyFile && !goBundle)
      throw new UserError('MISSING_OPTION', '--public-key checks the --go-bundle: give that too', { where: { field: 'go-bundle' } });
    // anyone can rebuild an unsigned bundle around another backup: the GO counts only signed by the depot
    if (goBundle && !keyFile)
      throw new UserError('MISSING_OPTION', "--go-bundle needs --public-key (the depot's signing.pub): an unsigned bundle proves nothing", {
        where: { field: 'public-key' },
      });
    const publicKey = keyFile ? await readPublicKey(keyFile) : undefined;
    return withDb(await stepTarget(ctx, 'rollback'), async (db) => {
      const r = await rollback(
        db,
        {
          backupDir: path.resolve(ctx.cwd, dir),
          env: ctx.env,
          run,
          ...timeouts,
          ...(other ? { allowOtherSource: other } : {}),
          ...(identity ? { identity } : {}),
          ...(resultsDir ? { resultsDir, replay } : {}),
          ...(goBundle ? { goBundle: { file: goBundle, ...(publicKey ? { publicKey } : {}) } } : {}),
        },
        ctx.log,
      );
      if (resultsDir) await writeResult(resultsDir, 'rollback', r);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderRollbackText(r));
      return r.ok && !r.lateRollback?.replay?.stoppedAt ? 0 : 1;
    });
  },
};

export const backupCommands: CommandSpec[] = [backupCommand, backupVerifyCommand, rollbackCommand];
