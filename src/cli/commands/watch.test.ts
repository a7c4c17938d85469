import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../command.js';
import { watchCommand } from './watch.js';
import { expectUserError as userError, runCommand } from '../../testing/command.js';

const dir = mkdtempSync(join(tmpdir(), 'astm53b-watch-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (values: CommandContext['values']) => runCommand(watchCommand, values, [], { cwd: dir });
// a server that does not exist: bad input must be refused before any connection is tried
const url = 'postgresql://nobody:secret@127.0.0.1:1/none';

describe('astm53b watch: bad input is refused before connecting, naming the field', () => {
  it('needs the GO bundle; a window or tolerance that is no number of hours/litres is refused', async () => {
    expect((await userError(run({ url }))).where?.field).toBe('go-bundle');
    expect((await userError(run({ url, 'go-bundle': 'go.zip', 'window-hours': '0' }))).where?.field).toBe('window-hours');
    expect((await userError(run({ url, 'go-bundle': 'go.zip', 'tolerance-l': '-1' }))).where?.field).toBe('tolerance-l');
  });

  it('a complaint file that is not {"who","what","when"} names the field', async () => {
    writeFileSync(join(dir, 'c1.json'), JSON.stringify({ who: 'chef de quai', what: '', when: '2026-02-27T10:00:00Z' }));
    expect((await userError(run({ url, 'go-bundle': 'go.zip', complaint: 'c1.json' }))).describe()).toMatch(
      /^BAD_INPUT: field complaint\.what: \S*c1\.json: field what/,
    );
    writeFileSync(join(dir, 'c2.json'), JSON.stringify({ who: 'chef de quai', what: 'écart', when: 'hier' }));
    expect((await userError(run({ url, 'go-bundle': 'go.zip', complaint: 'c2.json' }))).where?.field).toBe('complaint.when');
    writeFileSync(join(dir, 'c3.json'), 'who: x');
    expect((await userError(run({ url, 'go-bundle': 'go.zip', complaint: 'c3.json' }))).message).toMatch(/c3\.json: not JSON/);
  });

  it('--repository without GITHUB_TOKEN is refused', async () => {
    expect((await userError(run({ url, 'go-bundle': 'go.zip', repository: 'depot/app' }))).where?.field).toBe('repository');
  });
});
