import type { CommandSpec } from './command.js';
import { astmCommands } from './commands/astm.js';
import { backupCommands } from './commands/backup.js';
import { compat } from './commands/compat.js';
import { dbInit, dbLoadSchema, dbStatus } from './commands/db.js';
import { evidenceCommands } from './commands/evidence.js';
import { keysCommands } from './commands/keys.js';
import { goldenCommands } from './commands/golden.js';
import { envCommands } from './commands/env.js';
import { freezeCommand } from './commands/freeze.js';
import { sqlApplyCommand } from './commands/sql-apply.js';
import { stagingResetCommand } from './commands/staging-reset.js';
import { preflightCommands } from './commands/preflight.js';
import { rehearse } from './commands/rehearse.js';
import { restateCommand } from './commands/restate.js';
import { watchCommand } from './commands/watch.js';
import { smokeCommands } from './commands/smoke.js';

/** Every `astm53b` command, in the order `--help` lists them. */
export const COMMANDS: CommandSpec[] = [
  rehearse,
  dbInit,
  dbStatus,
  dbLoadSchema,
  compat,
  ...preflightCommands,
  ...backupCommands,
  ...envCommands,
  sqlApplyCommand,
  stagingResetCommand,
  freezeCommand,
  restateCommand,
  watchCommand,
  ...goldenCommands,
  ...smokeCommands,
  ...evidenceCommands,
  ...keysCommands,
  ...astmCommands,
];

/** The command a name (or an older alias) stands for. */
export function commandNamed(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}
