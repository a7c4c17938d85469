import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

/** Validates `value` against `schema` and writes it as JSON; returns the text written. */
export async function writeValidated<S extends z.ZodType>(file: string, schema: S, value: z.input<S>, what: string): Promise<string> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`${what}: the result does not satisfy its schema (${describeIssue(r.error)})`);
  const text = jsonText(r.data);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
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
