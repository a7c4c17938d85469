// Types of reusable-workflows.mjs, for the tests and the workflow harness that read its output.
export function pipelineRelease(pkg: unknown): { repository: string; tag: string };
export function reusableWorkflow(
  source: string,
  o: { sourceFile: string; repository: string; tag: string; outputs?: Record<string, { description: string; value: string }> },
): string;
export const REUSABLE_FLOWS: Record<string, Record<string, { description: string; value: string }>>;
export function writeReusableWorkflows(root: string, writeFile: (file: string, text: string) => Promise<void>): Promise<void>;
