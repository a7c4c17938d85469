import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { leaks, runActionWith } from '../../testing/action.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { compatAction } from './compat.js';

/**
 * The compat action end to end as the runner drives it: inputs from INPUT_* variables,
 * outputs and summary written to the files GitHub names, the password masked.
 */
describePg('actions/compat', () => {
  const fx = useFreshDatabase('action_compat', { fixture: true });
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  const runWith = (url: string) => runActionWith(compatAction, { 'database-url': url, 'output-dir': '$DIR/results' });

  it('passes on the fixture, writes its outputs and summary, and never prints the password', async () => {
    const u = new URL(fx().scratch.url);
    u.password = 'Act10nSecret';
    const r = await runWith(u.toString());
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/compatible<<.*\ntrue\n/s);
    expect(r.summary).toContain('✅ compatible');
    const json = JSON.parse(await readFile(path.join(r.dir, 'results', 'compat.json'), 'utf8'));
    expect(json.compatible).toBe(true);
    expect(JSON.stringify(json)).not.toContain('Act10nSecret');
    // the only place the secret may appear is the runner's own mask command
    expect(leaks(r.stdout, 'Act10nSecret')).toEqual([]);
    expect(r.stdout).toContain('::add-mask::Act10nSecret');
  });

  it('fails the step with one line naming what is missing', async () => {
    await fx().db.query('ALTER TABLE public.stocks_journaliers DISABLE TRIGGER stocks_journaliers_block_writes');
    try {
      const r = await runWith(fx().scratch.url);
      expect(process.exitCode).toBe(1);
      expect(r.stdout).toMatch(/::error::compat: 0 missing and 1 different objects in postgresql:/);
      expect(r.summary).toContain('| DIFFERENT | trigger | `public.stocks_journaliers.stocks_journaliers_block_writes` |');
    } finally {
      await fx().db.query('ALTER TABLE public.stocks_journaliers ENABLE TRIGGER stocks_journaliers_block_writes');
    }
  });

  it('refuses a missing database-url input as the user’s fault', async () => {
    const r = await runWith('');
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(/::error::compat: MISSING_INPUT: field database-url: input database-url is required/);
  });
});
