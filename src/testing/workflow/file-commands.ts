/**
 * What a step tells the runner: the file commands (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE,
 * GITHUB_PATH) read the way the runner reads them, and the workflow commands on stdout
 * (`::error …::`, `::add-mask::`, `::stop-commands::`). `::set-output` and `::save-state` are
 * refused here: the runner only warns, but @actions/core has not written them for years, so a
 * step that prints one is a bug worth a red test.
 */

/** `name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks, as the runner's SetEnvFileCommand. */
export function parseKeyValueFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const key = line.slice(0, eq);
      if (!key) throw new Error(`${file}: line ${i + 1} has no name before '='`);
      out[key] = line.slice(eq + 1);
      continue;
    }
    if (heredoc < 0) throw new Error(`${file}: line ${i + 1} is neither name=value nor name<<DELIMITER: ${line}`);
    const key = line.slice(0, heredoc);
    const delimiter = line.slice(heredoc + 2);
    if (!key || !delimiter) throw new Error(`${file}: line ${i + 1}: a heredoc needs a name and a delimiter`);
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}: no closing delimiter ${delimiter} for ${key}`);
    out[key] = value.join('\n');
  }
  return out;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  properties: Record<string, string>;
}

export interface StdoutCommands {
  annotations: Annotation[];
  masks: string[];
  /** commands the runner would refuse or that no current @actions/core emits */
  problems: string[];
}

const unescapeData = (s: string): string => s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string): string => unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',');

export function parseStdoutCommands(stdout: string): StdoutCommands {
  const result: StdoutCommands = { annotations: [], masks: [], problems: [] };
  let stoppedUntil: string | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line.trimStart());
    if (!m) continue;
    const [, name, props = '', message = ''] = m;
    if (stoppedUntil !== undefined) {
      if (name === stoppedUntil) stoppedUntil = undefined;
      continue;
    }
    const properties = Object.fromEntries(
      props
        .split(',')
        .filter(Boolean)
        .map((p) => {
          const eq = p.indexOf('=');
          return [p.slice(0, eq).trim(), unescapeProperty(p.slice(eq + 1))];
        }),
    );
    switch (name) {
      case 'error':
      case 'warning':
      case 'notice':
        result.annotations.push({ level: name, message: unescapeData(message), properties });
        break;
      case 'add-mask':
        if (message) result.masks.push(unescapeData(message));
        break;
      case 'stop-commands':
        stoppedUntil = message;
        break;
      case 'set-output':
      case 'save-state':
      case 'set-env':
      case 'add-path':
        result.problems.push(`::${name}:: on stdout (use the GITHUB_* files)`);
        break;
      default:
        break;
    }
  }
  return result;
}

/** The log as GitHub shows it: every secret and every add-mask value replaced by `***`. */
export function maskLog(log: string, secrets: readonly string[]): string {
  let out = log;
  for (const s of [...secrets].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  return out;
}
