import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { readManifest, writeManifest, writeVerification } from '../runbook/backup/manifest.js';
import type { Manifest } from '../results/backup.js';
import { BACKUP_DIR, BACKUP_FILES, RESULTS, type ResultKind, type ResultOf } from '../results/files.js';
import { readResult, readValidated, writeResult } from '../results/io.js';

/**
 * Result files for tests, always starting from what the real steps wrote (a rehearsal of the
 * whole runbook, src/testing/rehearsed-results.ts) and changed only through the contract's
 * schemas: a test can set a field to the value it pins, never invent a shape no step writes.
 */
export function rehearsedResults(): string {
  return inject('rehearsedResults');
}

/** A copy of the rehearsal's results folder at `dest` (emptied first). */
export async function copyRehearsedResults(dest: string, opts: { omit?: (ResultKind | 'backup')[] } = {}): Promise<string> {
  await rm(dest, { recursive: true, force: true });
  await cp(rehearsedResults(), dest, { recursive: true });
  for (const o of opts.omit ?? [])
    await rm(path.join(dest, o === 'backup' ? BACKUP_DIR : RESULTS[o].file), { recursive: true, force: true });
  return dest;
}

/** One result of the rehearsal, as the step wrote it. */
export async function rehearsedResult<K extends ResultKind>(kind: K): Promise<ResultOf<K>> {
  const r = await readResult(rehearsedResults(), kind);
  if (!r.ok) throw new Error(`the rehearsal wrote no valid ${RESULTS[kind].file}: ${r.detail}`);
  return r.value;
}

/** Reads a result of `dir`, changes it, and writes it back checked against its schema. */
export async function editResult<K extends ResultKind>(dir: string, kind: K, edit: (v: ResultOf<K>) => ResultOf<K>): Promise<ResultOf<K>> {
  const r = await readResult(dir, kind);
  if (!r.ok) throw new Error(`${RESULTS[kind].file} in ${dir}: ${r.detail}`);
  const next = edit(r.value);
  await writeResult(dir, kind, next);
  return next;
}

/**
 * Changes a backup folder's manifest and re-binds its verification record to it, as the backup
 * step does when it writes them (the files it lists keep their hashes).
 */
export async function editBackupManifest(dir: string, edit: (m: Manifest) => Manifest, checkedAt?: string): Promise<void> {
  const { manifest } = await readManifest(dir);
  const sha256 = await writeManifest(dir, edit(manifest));
  const v = await readValidated(path.join(dir, BACKUP_FILES.verification.file), BACKUP_FILES.verification.schema);
  if (!v.ok) throw new Error(`${dir}: ${v.detail}`);
  await writeVerification(dir, { ...v.value, manifestSha256: sha256, ...(checkedAt ? { checkedAt } : {}) });
}
