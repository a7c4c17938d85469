import path from 'node:path';
import { UserError } from '../../errors.js';
import { KEY_FILES, newDepotKeys } from '../../crypto/keys.js';
import type { CommandSpec } from '../command.js';
import { pathOption } from '../options.js';

/**
 * `astm53b keys new`: a depot's keys, and what goes where. The private files never leave the
 * folder through this command: it prints their names, never their content.
 */
export const keysNew: CommandSpec = {
  name: 'keys new',
  summary: "a depot's keys: age identity/recipient for its backups, Ed25519 pair for its evidence bundles",
  details:
    'Writes DIR/age.key and DIR/signing.key (mode 0600) and DIR/age.pub and DIR/signing.pub; refuses to overwrite any.\n' +
    'Prints which file goes into which GitHub secret or variable, and which may be committed (the public ones).\n' +
    'Whoever holds age.key can read every backup encrypted to age.pub; without it those backups are unrecoverable.',
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'folder for the four key files (created 0700 if missing)' },
  },
  async run(ctx) {
    const out = pathOption(ctx, 'out');
    if (!out) throw new UserError('MISSING_OPTION', 'keys new needs --out DIR', { where: { field: 'out' } });
    const k = await newDepotKeys(out);
    const rel0 = (name: string) => path.relative(ctx.cwd, path.join(k.dir, name)) || name;
    const width = Math.max(...Object.values(KEY_FILES).map((f) => rel0(f).length));
    const rel = (name: string) => rel0(name).padEnd(width);
    ctx.out(
      [
        `keys written to ${k.dir}`,
        '',
        `  ${rel(KEY_FILES.ageIdentity)} SECRET (0600) → GitHub secret AGE_IDENTITY of the environment prod (rollback decrypts the dump)`,
        `  ${rel(KEY_FILES.signingKey)} SECRET (0600) → GitHub secret EVIDENCE_SIGNING_KEY of the environment prod (the evidence job signs)`,
        `  ${rel(KEY_FILES.ageRecipient)} public        → GitHub variable AGE_RECIPIENT (backups are encrypted to it); may be committed`,
        `  ${rel(KEY_FILES.signingPublic)} public        → commit it (e.g. keys/signing.pub): auditors verify with it`,
        '',
        `  age recipient         ${k.recipient}`,
        `  signing fingerprint   ${k.signingFingerprint}`,
        '',
        'Keep an offline copy of age.key with the depot manager (README "Key custody"): a lost age.key makes every',
        'backup encrypted to it unrecoverable. Never commit age.key or signing.key; delete them from this machine once',
        'stored in the secrets and the offline copy is made.',
        '',
      ].join('\n'),
    );
    return 0;
  },
};

export const keysCommands: CommandSpec[] = [keysNew];
