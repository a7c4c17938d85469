import type { Logger } from '../logger.js';

/**
 * How the rehearsal shows its steps as they run: each step's name, runbook section and duration.
 * On a terminal a live display (listr2), elsewhere (CI, tests, a pipe) one plain line per event.
 */
export interface StepOutcome {
  ok: boolean;
  summary: string;
}

export interface StepReport extends StepOutcome {
  step: string;
  runbook: string;
  ms: number;
}

export interface Progress {
  /** runs one step, showing it; the step's own log lines go where the display wants them */
  step(name: string, runbook: string, fn: (log: Logger) => Promise<StepOutcome>): Promise<StepOutcome>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One line when a step starts and one when it ends, on the given writer (stderr for the CLI). */
export function plainProgress(write: (line: string) => void, log: Logger): Progress {
  return {
    async step(name, runbook, fn) {
      write(`▶ ${name} (runbook ${runbook})\n`);
      const t0 = Date.now();
      const r = await fn(log);
      write(`${r.ok ? '✔' : '✖'} ${name} (runbook ${runbook}) ${seconds(Date.now() - t0)}: ${r.summary}\n`);
      return r;
    },
  };
}

/** A live display on a terminal: one listr2 task per step, kept on screen once done. */
export async function terminalProgress(log: Logger): Promise<Progress> {
  const { Listr } = await import('listr2');
  return {
    async step(name, runbook, fn) {
      let outcome: StepOutcome | undefined;
      const t0 = Date.now();
      await new Listr(
        [
          {
            title: `${name} (runbook ${runbook})`,
            task: async (_ctx, task) => {
              const quiet: Logger = { info: (m) => (task.output = m), warn: (m) => (task.output = `! ${m}`), debug: (m) => log.debug(m) };
              outcome = await fn(quiet);
              task.title = `${name} (runbook ${runbook}) ${seconds(Date.now() - t0)}: ${outcome.summary}`;
              if (!outcome.ok) throw new Error(task.title);
            },
          },
        ],
        { exitOnError: false, collectErrors: false, rendererOptions: { showErrorMessage: false, collapseErrors: true } },
      ).run();
      return outcome!;
    },
  };
}
