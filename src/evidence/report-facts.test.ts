import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { BACKUP_DIR, BACKUP_FILES, RESULTS } from '../results/files.js';
import { editResult } from '../testing/results.js';
import { FLUTTER_COMMIT, writeSyntheticResults } from '../testing/evidence-results.js';
import { buildBundle, type BuildBundleOptions } from './bundle.js';
import { SEP_MAIL } from '../testing/sep-files.js';

/**
 * What the report states, read from the results folder the steps write (a real rehearsal's,
 * with the times these tests pin): the runbook 5.7 checklist is honest about each item, the
 * timeline comes from the files' own timestamps, the sign-off shows every field it has.
 */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-report-facts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

async function results(opts: Parameters<typeof writeSyntheticResults>[1] = {}): Promise<string> {
  const dir = path.join(root, `${++n}`, 'astm53b-results');
  await writeSyntheticResults(dir, opts);
  return dir;
}

async function build(dir: string, extra: Partial<BuildBundleOptions> = {}) {
  const sep = path.join(path.dirname(dir), 'WhatsApp Chat - SEP.txt');
  writeFileSync(sep, '11/03/2026 21:02 - Chef SEP: REC-2026-03-01 38123.4 L à 15°C, confirmé.\n');
  return buildBundle(
    {
      resultsDir: dir,
      out: path.join(path.dirname(dir), 'bundle.zip'),
      sepEvidence: [sep],
      now: new Date('2026-03-11T21:00:00Z'),
      env: {},
      ...extra,
    },
    silentLogger,
  );
}

const item = (r: Awaited<ReturnType<typeof build>>, start: string) => r.facts.archives.find((a) => a.item.startsWith(start))!;

describe('the runbook 5.7 checklist', () => {
  it('"Mettre à jour CHANGELOG.md" is done only when the change was written: a file or a pull request, not an entry generated', async () => {
    const dir = await results();
    const generated = await build(dir);
    expect(item(generated, 'Mettre à jour CHANGELOG.md')).toMatchObject({ present: false });
    expect(item(generated, 'Mettre à jour CHANGELOG.md').evidence).toMatch(/^NOT written: the entry is generated/);
    expect(generated.incomplete).toContain('Mettre à jour CHANGELOG.md (section [Unreleased] → PROD)');

    const pr = await build(dir, { changelog: { pullRequest: 'https://github.com/VALERYkal/ml_pp_mvp/pull/77' } });
    expect(item(pr, 'Mettre à jour CHANGELOG.md')).toMatchObject({
      present: true,
      evidence: 'written: pull request https://github.com/VALERYkal/ml_pp_mvp/pull/77',
    });

    const changelog = path.join(path.dirname(dir), 'CHANGELOG.md');
    await writeFile(changelog, '# Changelog\n\n## [Unreleased]\n\n## [1.0.0]\n');
    const file = await build(dir, { changelog: { insertInto: { file: changelog, under: '## [Unreleased]' } } });
    expect(item(file, 'Mettre à jour CHANGELOG.md').present).toBe(true);
    // the report says written because it was, before the zip: the file holds the entry
    expect(await readFile(changelog, 'utf8')).toContain(file.changelogEntry.trim().split('\n')[0]!);
  });

  it('"Archiver dump backup PROD utilisé" only when the dump verified', async () => {
    const dir = await results();
    expect(item(await build(dir), 'Archiver dump backup').present).toBe(true);
    const vfile = path.join(dir, BACKUP_DIR, BACKUP_FILES.verification.file);
    const v = JSON.parse(await readFile(vfile, 'utf8')) as { ok: boolean };
    await writeFile(vfile, JSON.stringify({ ...v, ok: false }));
    const failed = item(await build(dir), 'Archiver dump backup');
    expect(failed.present).toBe(false);
    expect(failed.evidence).toMatch(/restore test FAILED$/);
  });

  it('the Flutter commit only when GitHub confirmed a full SHA; a commit only given is recorded as not confirmed', async () => {
    const confirmed = item(await build(await results()), 'Archiver hash commit Flutter');
    expect(confirmed.present).toBe(true);
    expect(confirmed.evidence).toContain(`${FLUTTER_COMMIT} in VALERYkal/ml_pp_mvp, confirmed by GitHub's API`);
    const short = item(await build(await results({ flutterCommit: 'c4b55ea' })), 'Archiver hash commit Flutter');
    expect(short).toMatchObject({ present: false });
    expect(short.evidence).toMatch(/^c4b55ea as given, NOT confirmed through GitHub's API/);
  });
});

describe('the timeline and the sign-off', () => {
  it('orders the freeze window by the results files’ own times, with the durations they record', async () => {
    const dir = await results();
    const r = await build(dir);
    const steps = r.facts.timeline.map((e) => `${e.at} ${e.step}`);
    expect(steps).toEqual([
      '2026-03-11T19:02:00.000Z preflight',
      '2026-03-11T19:30:00.000Z freeze on',
      '2026-03-11T19:41:00.000Z backup (pg_dump)',
      '2026-03-11T19:42:00.000Z backup restore test',
      '2026-03-11T20:08:00.000Z golden cases',
      '2026-03-11T20:10:00.000Z smoke',
      '2026-03-11T20:14:03.000Z change applied',
      '2026-03-11T20:14:03.000Z decision',
      '2026-03-11T20:14:03.000Z freeze off (release)',
    ]);
    expect(r.facts.timeline.find((e) => e.step === 'backup (pg_dump)')!.ms).toBe(60_000);
    expect(r.facts.timeline.find((e) => e.step === 'change applied')!.outcome).toBe('2026-02-25_staging_validate_sortie_p0.sql: applied');
  });

  it('shows every field of the sign-off record as written, optional ones included, and who triggered the run', async () => {
    const dir = await results();
    await writeFile(
      path.join(dir, RESULTS.signoff.file),
      JSON.stringify({
        who: 'Chef de dépôt Ngoma',
        role: 'responsable dépôt',
        decision: 'NO-GO',
        at: '2026-03-11T20:12:00Z',
        comment: 'écart DEMO-CDR-2',
        runId: 'r-42',
      }),
    );
    const r = await build(dir);
    expect(r.facts.signoff!.fields.map((f) => f.field)).toEqual(['who', 'role', 'decision', 'at', 'comment', 'runId']);
    const md = (await import('../report/evidence.js')).renderEvidenceMarkdown({ manifest: r.manifest, facts: r.facts });
    expect(md).toContain('| comment | écart DEMO-CDR-2 |');
    expect(md).toContain('| 2026-03-11 20:12:00 | +42 min 00 s | sign-off (GO gate) | 5.6 | – | NO-GO by Chef de dépôt Ngoma |');
    // the rehearsal's run context names who started it
    expect(md).toContain('| run triggered by | fixture |');
  });

  it('reads the smoke figures from the file (the rehearsal as written has no restatement)', async () => {
    const dir = await results();
    const smoke = await editResult(dir, 'smoke', (s) => s);
    const r = await build(dir);
    const journal = r.facts.smoke!.figures.find((x) => x.owner === 'MONALUXE' && x.figure === 'journal')!;
    expect(journal.before).toEqual(smoke.figures!.before.MONALUXE.journal);
    expect(journal.afterSortie).toEqual(smoke.figures!.afterSortie!.MONALUXE.journal);
    expect(journal.afterRollback).toEqual(smoke.rollback.afterRollback.MONALUXE.journal);
    expect(r.facts.restate).toBeNull();
  });
});

describe('SEP confirmation in the report', () => {
  it('quotes the mail (sender, date, subject) and the chat messages of the day, and lists a PDF with its hash', async () => {
    const dir = await results();
    const mail = path.join(path.dirname(dir), 'confirmation-SEP.eml');
    writeFileSync(mail, SEP_MAIL);
    const pdf = path.join(path.dirname(dir), 'bordereau.pdf');
    writeFileSync(pdf, '%PDF-1.4\n');
    const r = await build(dir);
    const again = await buildBundle(
      {
        resultsDir: dir,
        out: path.join(path.dirname(dir), 'b2.zip'),
        sepEvidence: [mail, pdf],
        now: new Date('2026-03-11T21:00:00Z'),
        env: {},
      },
      silentLogger,
    );
    const md = (await import('../report/evidence.js')).renderEvidenceMarkdown({ manifest: again.manifest, facts: again.facts });
    // an angle bracket of SEP's text stays a character in markdown
    expect(md).toContain('> From: Chef de quart SEP — Pointe-Noire \\<terrain@sep-congo.example>');
    expect(md).toContain('> Subject: Confirmation volumes à 15 °C — réceptions du 11/03');
    expect(md).toMatch(/- sep\/bordereau\.pdf \(file\): 9 bytes, SHA-256 [0-9a-f]{64}\n/);
    // the day: the migration's (no sign-off in these results)
    expect(r.facts.sep[0]).toMatchObject({
      kind: 'whatsapp',
      quote: ['2026-03-11 21:02 Chef SEP: REC-2026-03-01 38123.4 L à 15°C, confirmé.'],
      note: 'the messages of 2026-03-11, the sign-off day',
    });
  });
});
