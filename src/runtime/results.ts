import * as core from '@actions/core';
import type { ResultKind, ResultOf } from '../results/files.js';
import { writeResult } from '../results/io.js';

export { DEFAULT_RESULTS_DIR as DEFAULT_OUTPUT_DIR } from '../results/files.js';

/**
 * Every action writes its result file the same way: into `output-dir` (default
 * astm53b-results, which the evidence job collects), checked against the contract's schema
 * (src/results), and published as the `result-file` output.
 */
export async function publishResult<K extends ResultKind>(dir: string, kind: K, value: ResultOf<K>): Promise<string> {
  const file = await writeResult(dir, kind, value);
  core.setOutput('result-file', file);
  return file;
}
