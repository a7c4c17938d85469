import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { z } from 'zod';
import { describeIssue } from '../results/io.js';

/**
 * Golden files of the pure renderers (as atlas-action does): each renderer's input fixture
 * `__golden__/<name>.input.json` sits beside the files it renders to, next to the test.
 * `UPDATE_GOLDEN=1` rewrites the outputs; an input is always checked against the result schema
 * the step writes, so a fixture cannot hold a shape no step produces.
 */
const goldenDir = (testUrl: string) => path.join(path.dirname(fileURLToPath(testUrl)), '__golden__');

export function expectGolden(testUrl: string, name: string, actual: string): void {
  const file = path.join(goldenDir(testUrl), name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

export function goldenInput<S extends z.ZodType>(testUrl: string, name: string, schema: S): z.infer<S> {
  const file = path.join(goldenDir(testUrl), `${name}.input.json`);
  const r = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!r.success) throw new Error(`${file} is not what the step writes: ${describeIssue(r.error)}`);
  return r.data;
}
