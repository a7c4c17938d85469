import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sqlPath, CHANGE_FILES } from '../paths.js';

/** Change files for tests: our P0 file as is, or altered to provoke one 4.3 violation. */

/** ML_PP's own copy of a runbook file, beside the PROD snapshot named by ML_PP_SCHEMA_DUMP (ref/ keeps repository paths with / as _). */
export function realRefFile(repoPath: string): string | undefined {
  const dump = process.env.ML_PP_SCHEMA_DUMP;
  return dump ? path.join(path.dirname(dump), repoPath.replace(/\//g, '_')) : undefined;
}

export function ourP0Text(): string {
  return readFileSync(sqlPath(CHANGE_FILES.p0), 'utf8');
}

export function changeFileWriter(): (name: string, text: string) => string {
  const dir = mkdtempSync(path.join(tmpdir(), 'astm53b-change-'));
  return (name, text) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
}

/** The P0 file with `extra` SQL appended inside its own BEGIN … COMMIT. */
export function p0With(extra: string): string {
  const text = ourP0Text();
  const at = text.lastIndexOf('COMMIT;');
  if (at < 0) throw new Error('the P0 file has no COMMIT');
  return `${text.slice(0, at)}${extra}\n${text.slice(at)}`;
}
