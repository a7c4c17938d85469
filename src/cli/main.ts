import { parseArgs } from 'node:util';
import { UserError } from '../errors.js';
import { classifyFailure } from '../db/failure.js';
import type { Logger } from '../logger.js';
import { redact, secretsOf } from '../db/secrets.js';
import type { CommandContext, CommandSpec, OptionSpec } from './command.js';
import { COMMANDS, commandNamed } from './registry.js';
import { resolveUrlOption } from './url-option.js';

/**
 * The `astm53b` CLI: the same runbook functions as the actions, on a laptop. One catch here:
 * a UserError, or a failure of the server or the network under the command (lock or statement
 * timeout, terminated backend, lost connection: classifyFailure), prints one line (exit 2);
 * anything else is a bug and keeps its stack (exit 3). Exit 1 means the command ran and its
 * check failed.
 */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal */
  tty?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const defaultIO = (): CliIO => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
});

export const VERSION = '0.1.0';

function findCommand(words: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  // longest match first: "db init" before "db"
  for (let n = Math.min(3, words.length); n > 0; n--) {
    const spec = commandNamed(words.slice(0, n).join(' '));
    if (spec) return { spec, rest: words.slice(n) };
  }
  return undefined;
}

/** `astm53b db --help`: the commands whose name starts with these words, or undefined when none does. */
function groupHelp(words: string[]): string | undefined {
  const prefix = `${words.join(' ')} `;
  const members = COMMANDS.filter((c) => c.name.startsWith(prefix));
  if (!members.length) return undefined;
  const width = Math.max(...members.map((c) => c.name.length));
  return [
    `Usage: astm53b ${words.join(' ')} <command> [options]      astm53b ${words.join(' ')} <command> --help`,
    '',
    'Commands:',
    ...members.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

/**
 * `--scale -5` reads to node's parseArgs as an option named 5; written `--scale=-5` it is a
 * value. A string option followed by a negative number takes it as its value, so the command
 * can say what is wrong with the number instead of "argument is ambiguous".
 */
function joinNegativeValues(spec: CommandSpec, args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = /^--([a-z0-9-]+)$/.exec(a)?.[1];
    const next = args[i + 1];
    if (name && spec.options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function optionUsage(name: string, o: OptionSpec): string {
  const flag = o.type === 'boolean' ? `--${name}` : `--${name} ${o.valueName ?? name.toUpperCase()}`;
  const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
  return `  ${flag.padEnd(28)} ${o.description}${def}${o.type === 'string' && o.multiple ? ' (repeatable)' : ''}`;
}

export function commandHelp(spec: CommandSpec): string {
  const pos = (spec.positionals ?? []).map((p) =>
    p.required ? `${p.name}${p.variadic ? '...' : ''}` : `[${p.name}${p.variadic ? '...' : ''}]`,
  );
  const lines = [`Usage: astm53b ${spec.name}${pos.length ? ` ${pos.join(' ')}` : ''} [options]`, '', spec.summary];
  if (spec.details) lines.push('', spec.details);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:', ...spec.positionals.map((p) => `  ${p.name.padEnd(28)} ${p.description}`));
  }
  lines.push('', 'Options:', ...Object.entries(spec.options).map(([n, o]) => optionUsage(n, o)), `  ${'--help'.padEnd(28)} show this help`);
  // `backup` is a command and a group (`backup verify`): its help names the commands under it too
  const under = COMMANDS.filter((c) => c.name.startsWith(`${spec.name} `));
  if (under.length) {
    const width = Math.max(...under.map((c) => c.name.length));
    lines.push('', 'Commands under it:', ...under.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`));
  }
  return lines.join('\n') + '\n';
}

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `astm53b ${VERSION}: ML_PP ASTM 53B migration runbook, as a pipeline`,
    '',
    'Usage: astm53b <command> [options]      astm53b <command> --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Without --url, database commands use the embedded PGlite database in ./.astm53b/pgdata.',
    '--url accepts env:NAME to read the connection string from an environment variable.',
    '',
  ].join('\n');
}

export async function cliMain(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const secrets: string[] = [];
  const safe = (t: string) => redact(t, secrets);
  const log: Logger = {
    info: (m) => io.stderr(safe(`· ${m}\n`)),
    warn: (m) => io.stderr(safe(`! ${m}\n`)),
    debug: (m) => {
      if (io.env.ASTM53B_DEBUG) io.stderr(safe(`  ${m}\n`));
    },
  };
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    const sub = argv[0] === 'help' ? findCommand(argv.slice(1)) : undefined;
    io.stdout(sub ? commandHelp(sub.spec) : globalHelp());
    return 0;
  }
  if (argv[0] === '--version') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const found = findCommand(words);
  if (!found) {
    const group = groupHelp(words);
    const asksHelp = argv.includes('--help') || argv.includes('-h');
    if (group && asksHelp) {
      io.stdout(group);
      return 0;
    }
    io.stderr(`UNKNOWN_COMMAND: astm53b ${words.join(' ') || argv[0]} is not a command; run astm53b --help\n${group ? `\n${group}` : ''}`);
    return 2;
  }
  const { spec } = found;
  const args = joinNegativeValues(spec, argv.slice(words.length - found.rest.length));
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(commandHelp(spec));
    return 0;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: Object.fromEntries(
          Object.entries(spec.options).map(([n, o]) => [
            n,
            o.type === 'string' ? { type: 'string' as const, multiple: o.multiple ?? false } : { type: 'boolean' as const },
          ]),
        ),
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UserError('BAD_ARGUMENTS', `${(e as Error).message.split('\n')[0]}; see astm53b ${spec.name} --help`);
    }
    const values = withOptionDefaults(spec, parsed.values as CommandContext['values']);
    const positionals = parsed.positionals;
    const declared = spec.positionals ?? [];
    const required = declared.filter((p) => p.required).length;
    if (positionals.length < required) {
      throw new UserError('BAD_ARGUMENTS', `missing ${declared[positionals.length]!.name}; see astm53b ${spec.name} --help`);
    }
    if (!declared.some((p) => p.variadic) && positionals.length > declared.length) {
      throw new UserError('BAD_ARGUMENTS', `unexpected argument "${positionals[declared.length]}"; see astm53b ${spec.name} --help`);
    }
    if (typeof values.url === 'string') {
      values.url = resolveUrlOption(values.url, io.env);
      secrets.push(...secretsOf(values.url));
    }
    const interactive = io.tty === true && !io.env.CI;
    const code = await spec.run({
      values,
      positionals,
      out: (t) => io.stdout(safe(t)),
      err: (t) => io.stderr(safe(t)),
      interactive,
      log,
      cwd: io.cwd,
      env: io.env,
    });
    return code ?? 0;
  } catch (e) {
    const user = classifyFailure(e, { step: spec.name, setting: (n) => (spec.options[n] ? `--${n}` : undefined) });
    if (user) {
      if (user !== e) log.debug(e instanceof Error ? (e.stack ?? e.message) : String(e));
      io.stderr(safe(`${user.describe()}\n`));
      return 2;
    }
    io.stderr(safe(`internal error (a bug; please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`));
    return 3;
  }
}

/** The option defaults a spec declares, filled in where the user gave none. */
export function withOptionDefaults(spec: CommandSpec, values: CommandContext['values']): CommandContext['values'] {
  const out: CommandContext['values'] = { ...values };
  for (const [n, o] of Object.entries(spec.options)) if (out[n] === undefined && o.default !== undefined) out[n] = o.default;
  return out;
}
