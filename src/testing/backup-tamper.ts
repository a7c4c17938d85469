import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readValidated, writeValidated } from '../results/io.js';
import { Verification } from '../results/backup.js';
import { readManifest, writeManifest, VERIFICATION_FILE } from '../runbook/backup/manifest.js';
import { hashFile } from '../hash.js';

/**
 * A backup folder edited as someone covering their tracks would: one value of the first row of
 * a CSV snapshot changed, its new size and SHA-256 recorded in manifest.json, and verification.json
 * re-bound to the new manifest (`files` too with `rebindFiles`, a forged record: only a fresh
 * verification can tell). Both engines write the same CSV dialect, so this serves both.
 */
export async function editSnapshotRow(
  dir: string,
  opts: { file?: string; column?: string; rebindFiles?: boolean } = {},
): Promise<{ file: string; before: string; after: string }> {
  const file = opts.file ?? 'tables/public.receptions.csv';
  const column = opts.column ?? 'volume_corrige_15c';
  const abs = path.join(dir, file);
  const lines = (await readFile(abs, 'utf8')).split('\n');
  const header = lines[0]!.split(',');
  const fields = lines[1]!.split(',');
  if (fields.length !== header.length) throw new Error(`${file}: the first row has quoted commas; pick another table`);
  const at = header.indexOf(column);
  const before = fields[at]!;
  const after = String(Number(before) - 100);
  fields[at] = after;
  lines[1] = fields.join(',');
  await writeFile(abs, lines.join('\n'));

  const { manifest } = await readManifest(dir);
  const d = await hashFile(abs);
  manifest.files = manifest.files.map((f) => (f.path === file ? { ...f, ...d } : f));
  const manifestSha256 = await writeManifest(dir, manifest);
  const vFile = path.join(dir, VERIFICATION_FILE);
  const v = await readValidated(vFile, Verification);
  if (!v.ok) throw new Error(`${vFile}: ${v.detail}`);
  const files = opts.rebindFiles ? v.value.files.map((f) => (f.path === file ? { path: f.path, sha256: d.sha256 } : f)) : v.value.files;
  await writeValidated(vFile, Verification, { ...v.value, manifestSha256, files }, VERIFICATION_FILE);
  return { file, before, after };
}

/**
 * A file of the folder replaced or altered by someone with write access who then re-recorded its
 * size and SHA-256 everywhere the gate looks: manifest.json, and verification.json's `files` and
 * `manifestSha256`. Only what the file decrypts to, or a fresh restore, can tell.
 */
export async function rerecordFile(dir: string, file: string): Promise<void> {
  const { manifest } = await readManifest(dir);
  const d = await hashFile(path.join(dir, file));
  manifest.files = manifest.files.map((f) => (f.path === file ? { ...f, ...d } : f));
  const manifestSha256 = await writeManifest(dir, manifest);
  const vFile = path.join(dir, VERIFICATION_FILE);
  const v = await readValidated(vFile, Verification);
  if (!v.ok) throw new Error(`${vFile}: ${v.detail}`);
  const files = v.value.files.map((f) => (f.path === file ? { path: f.path, sha256: d.sha256 } : f));
  await writeValidated(vFile, Verification, { ...v.value, manifestSha256, files }, VERIFICATION_FILE);
}
