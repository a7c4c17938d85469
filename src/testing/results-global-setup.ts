import type { TestProject } from 'vitest/node';
import { buildRehearsedResults } from './rehearsed-results.js';

/** Builds (or finds) the results folder of a real rehearsal once, before the tests that read results. */
export default async function setup(project: TestProject): Promise<void> {
  project.provide('rehearsedResults', await buildRehearsedResults());
}

declare module 'vitest' {
  export interface ProvidedContext {
    rehearsedResults: string;
  }
}
