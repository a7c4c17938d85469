/**
 * The one bundle (dist/index.cjs): the CLI and every action's entry. `actions/<name>/index.cjs`
 * and `bin/astm53b.cjs` are three-line shims that call into it.
 */
import { cliMain } from './cli/main.js';
import { ACTIONS } from './runtime/actions/index.js';

export { cliMain };

export async function runActionByName(name: string): Promise<void> {
  const action = ACTIONS[name];
  if (!action) throw new Error(`no action named ${name}`);
  await action();
}
