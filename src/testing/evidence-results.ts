import { rm } from 'node:fs/promises';
import path from 'node:path';
import { BACKUP_DIR, RESULTS } from '../results/files.js';
import { writeResult } from '../results/io.js';
import { copyRehearsedResults, editBackupManifest, editResult, rehearsedResult } from './results.js';

/**
 * A results folder as a PROD run leaves it before the evidence job, for the bundle tests: the
 * files of a real rehearsal (src/testing/results.ts), with the values these tests pin set
 * through the contract's schemas: the target masked as the steps mask it, a March 2026
 * timeline, three golden cases, the decision asked for. No database is needed.
 */
export const MASKED_TARGET = 'postgresql://app:***@db.example.com:5432/postgres';
export const FLUTTER_COMMIT = 'c4b55ea9d3f1e0a2b7c6d5e4f3a2b1c0d9e8f7a6';
export const FLUTTER_REPOSITORY = 'VALERYkal/ml_pp_mvp';

export interface SyntheticOptions {
  decision?: 'GO' | 'NO-GO' | null;
  withBackup?: boolean;
  withGolden?: boolean;
  flutterCommit?: string | null;
  /** put into smoke.json verbatim: lets a test plant a secret */
  smokeNote?: string;
}

export async function writeSyntheticResults(dir: string, o: SyntheticOptions = {}): Promise<void> {
  await copyRehearsedResults(dir, {
    omit: ['rollback', ...(o.withBackup === false ? (['backup'] as const) : []), ...(o.withGolden === false ? (['golden'] as const) : [])],
  });
  const flutter = o.flutterCommit === undefined ? FLUTTER_COMMIT : o.flutterCommit;
  const preflight = await editResult(dir, 'preflight', (p) => ({
    ...p,
    passed: true,
    failures: [],
    target: MASKED_TARGET,
    at: '2026-03-11T19:02:00.000Z',
    deployment: {
      ...p.deployment,
      flutterCommit: flutter,
      astmFlag: 'off',
      // as preflight records a commit GitHub's API confirmed (src/runbook/flutter-commit.ts)
      flutterCommitCheck:
        flutter === null || !/^[0-9a-f]{40}$/.test(flutter)
          ? null
          : {
              repository: FLUTTER_REPOSITORY,
              sha: flutter,
              message: 'feat(astm): ASTM 53B volume computation behind the feature flag',
              date: '2026-03-10T16:20:00Z',
              url: `https://github.com/${FLUTTER_REPOSITORY}/commit/${flutter}`,
              checkedAt: '2026-03-11T19:01:58.000Z',
            },
    },
    compat: { ...p.compat, target: MASKED_TARGET },
  }));
  await writeResult(dir, 'compat', preflight.compat);
  await editResult(dir, 'freezeOn', (f) => ({
    ...f,
    target: MASKED_TARGET,
    since: '2026-03-11T19:30:00.000Z',
    at: '2026-03-11T19:30:00.000Z',
  }));
  await editResult(dir, 'freezeOff', (f) => ({ ...f, target: MASKED_TARGET, at: '2026-03-11T20:14:03.000Z' }));
  await editResult(dir, 'sqlApply', (a) => ({
    ...a,
    target: MASKED_TARGET,
    file: { ...a.file, name: '2026-02-25_staging_validate_sortie_p0.sql' },
    status: 'applied',
    ok: true,
    at: '2026-03-11T20:14:03.000Z',
  }));
  if (o.withGolden !== false) {
    const golden = await rehearsedResult('golden');
    const base = golden.cases[0]!;
    const one = (reference: string, verdict: 'PASS' | 'FAIL', sep: number, engine: number, mlpp: number | null) => ({
      ...base,
      reference,
      verdict,
      engine_verdict: verdict,
      mlpp_verdict: mlpp === null ? ('NOT_COMPARED' as const) : verdict,
      sep_volume_15c_l: sep,
      engine_volume_15c_l: engine,
      mlpp_volume_15c_l: mlpp,
      mlpp_restated_15c_l: null,
      mlpp_effective_15c_l: mlpp,
      deviation_l: Math.round((engine - sep) * 10) / 10,
      mlpp_deviation_l: mlpp === null ? null : Math.round((mlpp - sep) * 10) / 10,
      reception_id: mlpp === null ? null : base.reception_id,
      mlpp: mlpp === null ? null : base.mlpp,
    });
    await writeResult(dir, 'golden', {
      ...golden,
      at: '2026-03-11T20:08:00.000Z',
      passed: false,
      profile: '1980/table/hydrometer',
      tolerance_l: 5,
      max_deviation_l: 7.2,
      counts: { cases: 3, passed: 2, failed: 1, mlpp_compared: 2 },
      cases: [
        one('REC-2026-03-01', 'PASS', 38123.4, 38124.6, 38121.0),
        one('REC-2026-03-02', 'PASS', 39000.0, 38996.9, null),
        one('REC-2026-03-03', 'FAIL', 37500.0, 37507.2, 37505.0),
      ],
    });
  }
  await editResult(dir, 'smoke', (s) => ({
    ...s,
    target: MASKED_TARGET,
    at: '2026-03-11T20:10:00.000Z',
    checks: s.checks.map((c, i) => (i === 0 && o.smokeNote ? { ...c, message: o.smokeNote } : c)),
  }));
  if (o.decision === null) {
    await rm(path.join(dir, RESULTS.decision.file));
  } else {
    const decision = o.decision ?? 'GO';
    await editResult(dir, 'decision', (d) => ({
      ...d,
      decision,
      at: '2026-03-11T20:14:03.000Z',
      resultsDir: dir,
      reasons: decision === 'GO' ? [] : d.reasons,
    }));
  }
  if (o.withBackup !== false) {
    await editBackupManifest(
      path.join(dir, BACKUP_DIR),
      (m) => ({
        ...m,
        startedAt: '2026-03-11T19:40:00.000Z',
        finishedAt: '2026-03-11T19:41:00.000Z',
        source: { ...m.source, label: MASKED_TARGET },
      }),
      '2026-03-11T19:42:00.000Z',
    );
  }
}
