import type { Logger } from '../logger.js';

/** How every `astm53b` sub-command is declared; `src/cli/main.ts` parses and dispatches. */
export type OptionSpec =
  | { type: 'string'; description: string; multiple?: boolean; default?: string; valueName?: string }
  | { type: 'boolean'; description: string; default?: boolean };

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** collects the remaining positionals */
  variadic?: boolean;
}

export interface CommandContext {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** stdout: the command's result (tables, JSON) */
  out: (text: string) => void;
  /** progress and warnings (stderr) */
  log: Logger;
  /** raw text on stderr (a live display's own lines); default: the log's info */
  err?: (text: string) => void;
  /** stderr is a terminal and not CI: a live display may be drawn */
  interactive?: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface CommandSpec {
  /** words after `astm53b`, e.g. 'vcf' or 'db init' */
  name: string;
  /** older names that still work (not listed in --help) */
  aliases?: string[];
  summary: string;
  /** longer help text printed under the usage line */
  details?: string;
  options: Record<string, OptionSpec>;
  positionals?: PositionalSpec[];
  /** exit code; undefined means 0 */
  run(ctx: CommandContext): Promise<number | void>;
}
