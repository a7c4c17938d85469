import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';

/**
 * Every action writes its result file the same way: into `output-dir` (default
 * astm53b-results, which the evidence job collects), JSON unless already rendered, and
 * published as the `result-file` output.
 */
export const DEFAULT_OUTPUT_DIR = 'astm53b-results';

export async function publishResult(dir: string, name: string, value: unknown): Promise<string> {
  const abs = path.resolve(dir);
  await mkdir(abs, { recursive: true });
  const file = path.join(abs, name);
  await writeFile(file, typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  core.setOutput('result-file', file);
  return file;
}
