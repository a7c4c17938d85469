import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FORMAT } from '../runbook/backup-manifest.js';

/**
 * A results folder as the steps write it (preflight, compat, sql-apply, golden, smoke, decide,
 * freeze, backup folder), with realistic shapes but no database: what the bundle tests build
 * from. The target is masked as the steps mask it.
 */
export const MASKED_TARGET = 'postgresql://app:***@db.example.com:5432/postgres';
export const FLUTTER_COMMIT = 'c4b55ea9d3f1e0a2b7c6d5e4f3a2b1c0d9e8f7a6';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface SyntheticOptions {
  decision?: 'GO' | 'NO-GO' | null;
  withBackup?: boolean;
  withGolden?: boolean;
  flutterCommit?: string | null;
  /** written into smoke.json verbatim: lets a test plant a secret */
  smokeNote?: string;
}

export function writeSyntheticResults(dir: string, o: SyntheticOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  const json = (rel: string, v: unknown) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), `${JSON.stringify(v, null, 2)}\n`);
  };
  const flutter = o.flutterCommit === undefined ? FLUTTER_COMMIT : o.flutterCommit;
  json('preflight.json', {
    step: 'preflight',
    passed: true,
    failures: [],
    target: MASKED_TARGET,
    at: '2026-03-11T19:02:00.000Z',
    deployment: { flutterCommit: flutter, astmFlag: 'off', databaseComputes15c: false, computeTriggers: [] },
  });
  json('compat.json', { compatible: true, target: MASKED_TARGET, counts: { missing: 0, different: 0 } });
  json('freeze-on.json', { action: 'on', changed: true, frozen: true, since: '2026-03-11T19:30:00.000Z' });
  json('sql-apply.json', {
    target: MASKED_TARGET,
    file: { name: '2026-02-25_staging_validate_sortie_p0.sql', sha256: 'ab'.repeat(32), bytes: 4123, statements: 3 },
    status: 'applied',
    ok: true,
    at: '2026-03-11T20:14:03.000Z',
  });
  if (o.withGolden !== false) {
    json('golden.json', {
      passed: false,
      profile: '1980/table/hydrometer',
      tolerance_l: 5,
      max_deviation_l: 7.2,
      counts: { cases: 3, passed: 2, failed: 1, mlpp_compared: 2 },
      cases: [
        {
          reference: 'REC-2026-03-01',
          verdict: 'PASS',
          sep_volume_15c_l: 38123.4,
          engine_volume_15c_l: 38124.6,
          mlpp_volume_15c_l: 38121.0,
          deviation_l: 1.2,
          mlpp_deviation_l: -2.4,
        },
        {
          reference: 'REC-2026-03-02',
          verdict: 'PASS',
          sep_volume_15c_l: 39000.0,
          engine_volume_15c_l: 38996.9,
          mlpp_volume_15c_l: null,
          deviation_l: -3.1,
          mlpp_deviation_l: null,
        },
        {
          reference: 'REC-2026-03-03',
          verdict: 'FAIL',
          sep_volume_15c_l: 37500.0,
          engine_volume_15c_l: 37507.2,
          mlpp_volume_15c_l: 37505.0,
          deviation_l: 7.2,
          mlpp_deviation_l: 5.0,
        },
      ],
    });
  }
  json('smoke.json', {
    passed: true,
    checks: [{ name: 'reception', ok: true }],
    note: o.smokeNote ?? 'controlled reception and sortie through validate_sortie',
  });
  if (o.decision !== null)
    json('decision.json', { decision: o.decision ?? 'GO', reasons: ['golden cases within tolerance'], approvedBy: 'gerant-depot' });
  json('freeze-off.json', { action: 'off', changed: true, frozen: false });
  if (o.withBackup !== false) {
    const files: { path: string; kind: string; content: Buffer }[] = [
      // pseudo-random bytes: a custom-format dump is already compressed
      {
        path: 'database.dump',
        kind: 'archive',
        content: Buffer.concat(Array.from({ length: 64 }, (_, i) => createHash('sha512').update(`block ${i}`).digest())),
      },
      {
        path: 'functions/public.validate_sortie.sql',
        kind: 'function',
        content: Buffer.from('CREATE OR REPLACE FUNCTION public.validate_sortie(p_id uuid) RETURNS void ...;\n'),
      },
      {
        path: 'tables/public.receptions.csv',
        kind: 'table-snapshot',
        content: Buffer.from('id,citerne_id,volume_ambiant\n1,TANK4,38000\n'),
      },
      { path: 'auth-users.json', kind: 'auth-users', content: Buffer.from('[]\n') },
    ];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, 'backup', f.path)), { recursive: true });
      writeFileSync(path.join(dir, 'backup', f.path), f.content);
    }
    const manifest = {
      format: MANIFEST_FORMAT,
      startedAt: '2026-03-11T19:40:00.000Z',
      finishedAt: '2026-03-11T19:41:00.000Z',
      files: files.map((f) => ({ path: f.path, kind: f.kind, bytes: f.content.length, sha256: sha(f.content) })),
    };
    json('backup/manifest.json', manifest);
    json('backup/verification.json', {
      format: 'astm53b-backup-verification/1',
      ok: true,
      checkedAt: '2026-03-11T19:42:00.000Z',
      failures: [],
    });
  }
}
