import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { RESULTS, type ResultKind, type ResultOf } from './files.js';

/**
 * Reading and writing result files. A result is checked against its schema when it is written
 * (a mismatch is our bug, so it throws a plain Error) and when it is read (a mismatch is the
 * file's fault: the reader says which field, and `decide` turns it into a NO-GO reason).
 */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The first problem zod found, as "field a.b: message". */
export function describeIssue(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `field ${i.path.join('.') || '(root)'}: ${i.message}`;
}

/** The name an `atomic` write goes to before it is renamed into place (per process: two writers never share it). */
export const partialFileOf = (file: string): string => `${file}.${process.pid}.partial`;

/**
 * Validates `value` against `schema` and writes it as JSON; returns the text written. `atomic`:
 * written to `partialFileOf(file)`, flushed to disk, then renamed over `file`, so `file` is
 * either whole or absent (a full disk leaves no truncated record that a later reader trusts).
 * A failed write throws the system's error (ENOSPC…) and leaves no partial file.
 */
export async function writeValidated<S extends z.ZodType>(
  file: string,
  schema: S,
  value: z.input<S>,
  what: string,
  opts: { atomic?: boolean } = {},
): Promise<string> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what}: the result does not satisfy its schema (${describeIssue(r.error)})`);
  const text = jsonText(r.data);
  await mkdir(path.dirname(file), { recursive: true });
  if (!opts.atomic) {
    await writeFile(file, text);
    return text;
  }
  const partial = partialFileOf(file);
  try {
    const handle = await open(partial, 'w');
    try {
      await handle.writeFile(text);
      // some file systems (NFS, quotas) report a full disk only when the data is flushed
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, file);
  } catch (e) {
    await rm(partial, { force: true }).catch(() => {});
    throw e;
  }
  return text;
}

/** Writes one result into the results folder; returns its absolute path. */
export async function writeResult<K extends ResultKind>(dir: string, kind: K, value: ResultOf<K>): Promise<string> {
  const { file, schema } = RESULTS[kind];
  const abs = path.resolve(dir, file);
  await writeValidated(abs, schema as z.ZodType, value, file);
  return abs;
}

export type ReadOutcome<T> =
  { ok: true; value: T; file: string } | { ok: false; status: 'missing' | 'unreadable'; detail: string; file: string };

/** A JSON file checked against `schema`; never throws for the file's own faults. */
export async function readValidated<S extends z.ZodType>(file: string, schema: S): Promise<ReadOutcome<z.infer<S>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? { ok: false, status: 'missing', detail: 'no such file', file }
      : { ok: false, status: 'unreadable', detail: `cannot read it: ${code ?? (e as Error).message}`, file };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, status: 'unreadable', detail: `not JSON: ${(e as Error).message}`, file };
  }
  const r = schema.safeParse(value);
  if (!r.success) return { ok: false, status: 'unreadable', detail: describeIssue(r.error), file };
  return { ok: true, value: r.data, file };
}

/** One result of the results folder (or of an explicit file, e.g. --signoff FILE). */
export function readResult<K extends ResultKind>(dir: string, kind: K, file?: string): Promise<ReadOutcome<ResultOf<K>>> {
  return readValidated(file ?? path.resolve(dir, RESULTS[kind].file), RESULTS[kind].schema as z.ZodType) as Promise<
    ReadOutcome<ResultOf<K>>
  >;
}
