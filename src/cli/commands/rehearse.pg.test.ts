import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { schemaExists } from '../../db/catalog.js';
import { CHANGE_FILES } from '../../paths.js';
import { appTableChecksums } from '../../testing/checksums.js';
import { runCli } from '../../testing/cli.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';

/**
 * `astm53b rehearse --url` as the engineer runs it on a copy of PROD: exit 1 NO-GO for the
 * runbook as written, exit 0 GO for the remedied run, exit 2 for bad input with nothing touched.
 */
let cwd = '';
beforeAll(async () => {
  cwd = await mkdtemp(path.join(tmpdir(), 'astm53b-rehearse-pg-'));
  await writeFile(
    path.join(cwd, 'go.json'),
    JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString() }),
  );
  await writeFile(
    path.join(cwd, 'other-run.json'),
    JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString(), runId: 'depot/app#41.1' }),
  );
  await writeFile(
    path.join(cwd, 'future.json'),
    JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: '2099-01-01T00:00:00Z' }),
  );
  await writeFile(path.join(cwd, 'latin1.csv'), Buffer.from('reference,volume_observe_l\nR\xe9c-1,100\n', 'latin1'));
});
afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

describePg('astm53b rehearse --url (real PostgreSQL)', () => {
  const written = useFreshDatabase('rehearse_cli_written', { fixture: true });
  const remedied = useFreshDatabase('rehearse_cli_go', { fixture: true });

  it('bad input is exit 2, one line, and the database is not touched', async () => {
    const { db, scratch } = written();
    const before = await appTableChecksums(db);
    for (const [args, expected] of [
      [['--signoff', 'other-run.json'], /^BAD_INPUT: other-run\.json field runId: the sign-off names run depot\/app#41\.1/m],
      [['--signoff', 'future.json'], /^BAD_INPUT: future\.json field at: the sign-off is dated 2099-01-01T00:00:00Z, in the future/m],
      [['--drill', 'earthquake'], /^BAD_OPTION: field drill: --drill earthquake: no such drill/m],
      [['--golden', 'latin1.csv'], /latin1\.csv/],
      [['--change', 'no-such.sql'], /no-such\.sql/],
    ] as const) {
      const r = await runCli(['rehearse', '--url', scratch.url, '--out', 'out', ...args], { cwd, env: {} });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(expected);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    expect(await appTableChecksums(db)).toEqual(before);
    expect(await schemaExists(db, 'astm53b')).toBe(false);
  });

  it('the runbook as written: exit 1 (NO-GO), rolled back, and it prints the remedied command', async () => {
    const { db, scratch } = written();
    const before = await appTableChecksums(db);
    const r = await runCli(['rehearse', '--url', scratch.url, '--out', 'written'], { cwd, env: {} });
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Decision: NO-GO/m);
    expect(r.stdout).toContain(`npx astm53b rehearse --change sql/${CHANGE_FILES.p0_1} --restate --signoff FILE`);
    expect(await appTableChecksums(db)).toEqual(before);
    // the steps as they ran, with their runbook section and duration
    expect(r.stderr).toMatch(/^✔ backup \(runbook 3\.1, 4\.2\) \d+\.\d s: verification passed$/m);
  });

  it('the remedied run: exit 0 (GO)', async () => {
    const { scratch } = remedied();
    const r = await runCli(
      [
        'rehearse',
        '--url',
        scratch.url,
        '--out',
        'go',
        '--change',
        path.join('..', path.relative(cwd, process.cwd()), 'sql', CHANGE_FILES.p0_1),
        '--restate',
        '--signoff',
        'go.json',
      ],
      {
        cwd,
        env: {},
      },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toMatch(/^Decision: GO/m);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('The remedied run');
  });
});
