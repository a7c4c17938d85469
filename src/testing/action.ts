import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vi } from 'vitest';

/**
 * Drives an action's body as the runner does: inputs as INPUT_* variables, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, stdout captured (where ::error:: and ::add-mask:: land). `$DIR` in
 * an input value is replaced by a fresh folder of this run. The caller restores process.env and
 * process.exitCode (an afterEach), since tests assert on the exit code.
 */
// @actions/core caches the summary file's path after its first write: one file per test process
const SUMMARY_FILE = path.join(tmpdir(), `astm53b-action-summary-${process.pid}`);

export interface ActionRun {
  dir: string;
  stdout: string;
  /** the GITHUB_OUTPUT file */
  output: string;
  /** the job summary written by this run */
  summary: string;
}

export async function runActionWith(
  action: () => Promise<void>,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-action-'));
  const output = path.join(dir, 'output');
  await writeFile(output, '');
  await writeFile(SUMMARY_FILE, '');
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v.replaceAll('$DIR', dir);
  Object.assign(process.env, { GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: SUMMARY_FILE }, env);
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await action();
  } finally {
    vi.restoreAllMocks();
  }
  return { dir, stdout, output: await readFile(output, 'utf8'), summary: await readFile(SUMMARY_FILE, 'utf8') };
}

/** Lines of stdout that show a secret anywhere but in the runner's own mask command. */
export const leaks = (stdout: string, secret: string): string[] =>
  stdout.split('\n').filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'));
