import { readFile } from 'node:fs/promises';
import { UserError } from '../../errors.js';
import { Complaint } from '../../results/watch.js';

/**
 * The watch's inputs as the CLI and the action receive them, checked before anything is read: a
 * complaint given by hand is JSON {"who","what","when"} (a file, or the workflow input's text), the
 * window a positive number of hours. A bad one is a UserError naming the field.
 */
export function parseComplaint(text: string, from: string): Complaint {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError('BAD_INPUT', `${from}: not JSON (${(e as Error).message})`, {
      where: { field: 'complaint' },
      hint: 'give {"who": "…", "what": "…", "when": "2026-02-27T10:00:00Z"}',
    });
  }
  const r = Complaint.omit({ source: true, issue: true }).safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new UserError('BAD_INPUT', `${from}: field ${i.path.join('.') || '(root)'}: ${i.message}`, {
      where: { field: `complaint.${i.path.join('.')}` },
      hint: 'give {"who": "…", "what": "…", "when": "2026-02-27T10:00:00Z"}',
    });
  }
  if (Number.isNaN(Date.parse(r.data.when)))
    throw new UserError('BAD_INPUT', `${from}: field when: ${r.data.when} is not a date`, { where: { field: 'complaint.when' } });
  return { source: 'input', ...r.data, issue: null };
}

export async function readComplaintFile(file: string): Promise<Complaint> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UserError(e.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'BAD_INPUT', `${file}: ${e.message}`, { where: { file } });
  });
  return parseComplaint(text, file);
}

export function parseWindowHours(text: string | undefined, field = 'window-hours'): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 24 * 14)
    throw new UserError('BAD_OPTION', `${field} ${text}: a number of hours above 0 and at most 336`, { where: { field } });
  return n;
}
