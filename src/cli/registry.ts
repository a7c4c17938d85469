import type { CommandSpec } from './command.js';
import { astmCommands } from './commands/astm.js';
import { backupCommands } from './commands/backup.js';
import { compat } from './commands/compat.js';
import { dbInit, dbLoadSchema, dbStatus } from './commands/db.js';
import { evidenceCommands } from './commands/evidence.js';
import { goldenCommands } from './commands/golden.js';
import { pipelineCommands } from './commands/pipeline.js';
import { preflightCommands } from './commands/preflight.js';
import { rehearse } from './commands/rehearse.js';
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
  ...pipelineCommands,
  ...goldenCommands,
  ...smokeCommands,
  ...evidenceCommands,
  ...astmCommands,
];
