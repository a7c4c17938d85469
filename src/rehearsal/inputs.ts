import path from 'node:path';
import { UserError } from '../errors.js';
import { loadGoldenFile } from '../golden/load.js';
import { CHANGE_FILES, PACKAGE_ROOT, sqlPath } from '../paths.js';
import { RESULTS } from '../results/files.js';
import { readValidated } from '../results/io.js';
import { SignOff } from '../results/signoff.js';
import { loadChangeFile, type ChangeFile } from '../runbook/change-file.js';
import { signoffProblems } from '../runbook/signoff.js';
import { parseDrill, type DrillName } from './drills.js';

/**
 * Everything a rehearsal is given, read and checked before the database is touched: a missing
 * or malformed golden file, change file or sign-off is exit 2 with nothing changed.
 */
export interface RehearsalInputs {
  golden: { path: string; display: string; cases: number };
  changes: ChangeFile[];
  signoff: SignOff | null;
  drill: DrillName | undefined;
}

/** a file as given: its path, and how messages name it (as the user typed it) */
export type GivenFile = string | { path: string; display: string };
const fileOf = (f: GivenFile) => (typeof f === 'string' ? { path: f, display: rel(f) } : f);

export interface GivenInputs {
  golden?: GivenFile | undefined;
  changes?: GivenFile[] | undefined;
  signoff?: GivenFile | undefined;
  drill?: string | undefined;
  /** when the sign-off is judged "in the future" (tests fix it) */
  now?: Date;
}

const rel = (p: string) => path.relative(PACKAGE_ROOT, p) || p;

export async function loadRehearsalInputs(given: GivenInputs): Promise<RehearsalInputs> {
  const drill = parseDrill(given.drill);
  const goldenFile = fileOf(given.golden ?? path.join(PACKAGE_ROOT, 'golden/demo-golden-cases.csv'));
  const golden = await loadGoldenFile(goldenFile.path, goldenFile.display);
  const changeFiles = (given.changes?.length ? given.changes : [sqlPath(CHANGE_FILES.p0)]).map(fileOf);
  const changes: ChangeFile[] = [];
  for (const c of changeFiles) changes.push(await loadChangeFile(c.path, c.display));
  let signoff: SignOff | null = null;
  if (given.signoff) {
    const so = fileOf(given.signoff);
    const r = await readValidated(so.path, SignOff);
    if (!r.ok) {
      throw new UserError(r.status === 'missing' ? 'FILE_NOT_FOUND' : 'BAD_INPUT', `sign-off record ${r.detail}`, {
        where: { file: so.display, ...(r.detail.startsWith('field ') ? { field: r.detail.slice(6, r.detail.indexOf(':')) } : {}) },
        hint: `a ${RESULTS.signoff.file} record: {"who","role","decision":"GO"|"NO-GO","at","comment"}`,
      });
    }
    // the same rules decide applies: a record given by hand names no run and is not dated ahead
    const problem = signoffProblems(r.value, { rehearsal: true, now: given.now ?? new Date() })[0];
    if (problem) throw new UserError('BAD_INPUT', problem.message, { where: { file: so.display, field: problem.field } });
    signoff = r.value;
  }
  return { golden: { path: goldenFile.path, display: goldenFile.display, cases: golden.cases.length }, changes, signoff, drill };
}
