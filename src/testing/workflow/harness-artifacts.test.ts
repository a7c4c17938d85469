import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFilesToUpload } from './artifacts.js';
import { maskLog, parseKeyValueFile, parseStdoutCommands } from './file-commands.js';
import { fixtureRepo, type FixtureRepo } from './fixture-repo.js';
import { redirectToServices, type ServiceStandIn } from './services.js';

// each run spawns a node or bash process per step: seconds on a busy machine, not milliseconds
describe('workflow harness: artifacts between fresh workspaces', { timeout: 60_000 }, () => {
  let repo: FixtureRepo;
  beforeAll(async () => {
    repo = await fixtureRepo();
  });
  afterAll(() => repo?.remove());

  it('uploads and downloads as upload-artifact@v4 and download-artifact@v4 do; nothing else passes from job to job', async () => {
    const r = await repo.run(`
on: workflow_dispatch
jobs:
  produce:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          mkdir -p res/backup res/.hidden
          echo a > res/a.json; echo d > res/backup/database.dump; echo m > res/backup/manifest.json; echo h > res/.hidden/x
          echo one > single.txt
      - uses: actions/upload-artifact@v4
        with:
          name: results-a
          path: |
            res/
            !res/backup/
      - uses: actions/upload-artifact@v4
        with: { name: backup, path: res/backup/, retention-days: 90 }
      - uses: actions/upload-artifact@v4
        with: { name: results-single, path: single.txt }
      - id: conflict
        continue-on-error: true
        uses: actions/upload-artifact@v4
        with: { name: backup, path: single.txt }
      - id: none-error
        continue-on-error: true
        uses: actions/upload-artifact@v4
        with: { name: empty, path: nothing/, if-no-files-found: error }
      - id: none-warn
        uses: actions/upload-artifact@v4
        with: { name: empty2, path: nothing/ }
  consume:
    needs: produce
    runs-on: ubuntu-24.04
    steps:
      - id: fresh
        run: test ! -e res && test ! -e single.txt
      - uses: actions/download-artifact@v4
        with: { pattern: 'results-*', path: out, merge-multiple: true }
      - uses: actions/download-artifact@v4
        with: { pattern: 'results-*', path: separate }
      - uses: actions/download-artifact@v4
        with: { name: backup, path: out/backup }
      - id: missing
        continue-on-error: true
        uses: actions/download-artifact@v4
        with: { name: nope }
      - id: none-matched
        uses: actions/download-artifact@v4
        with: { pattern: 'zzz-*' }
      - id: list
        run: find out separate -type f | sort
`);
    expect(r.job('produce').result).toBe('success');
    expect(Object.fromEntries([...r.artifacts.values()].map((a) => [a.name, a.files]))).toEqual({
      'results-a': ['a.json'],
      backup: ['database.dump', 'manifest.json'],
      'results-single': ['single.txt'],
    });
    expect(r.artifacts.get('backup')!.retentionDays).toBe(90);
    expect(r.step('produce', 'conflict').annotations[0]!.message).toMatch(/\(409\) Conflict: an artifact with this name already exists/);
    expect(r.step('produce', 'none-error').outcome).toBe('failure');
    expect(r.step('produce', 'none-warn').annotations[0]).toMatchObject({
      level: 'warning',
      message: expect.stringMatching(/^No files were found/),
    });

    expect(r.job('consume').result).toBe('success');
    expect(r.step('consume', 'fresh').outcome).toBe('success');
    expect(r.step('consume', 'list').log.trim().split('\n')).toEqual([
      'out/a.json',
      'out/backup/database.dump',
      'out/backup/manifest.json',
      'out/single.txt',
      'separate/results-a/a.json',
      'separate/results-single/single.txt',
    ]);
    expect(r.step('consume', 'missing')).toMatchObject({ outcome: 'failure', conclusion: 'success' });
    expect(r.step('consume', 'missing').annotations[0]!.message).toBe("Unable to download artifact(s): Artifact 'nope' not found");
    expect(r.step('consume', 'none-matched').outcome).toBe('success');
  });

  it("roots an artifact at the common ancestor of its paths, or at a single file's folder", async () => {
    const ws = await mkdtemp(path.join(tmpdir(), 'astm53b-upload-'));
    try {
      await mkdir(path.join(ws, 'r/backup'), { recursive: true });
      await writeFile(path.join(ws, 'r/decision.json'), '{}');
      await writeFile(path.join(ws, 'r/backup/manifest.json'), '{}');
      const two = await findFilesToUpload(ws, 'r/decision.json\nr/backup/', false);
      expect(two.root).toBe(path.join(ws, 'r'));
      const one = await findFilesToUpload(ws, 'r/decision.json', false);
      expect([one.root, one.files]).toEqual([path.join(ws, 'r'), [path.join(ws, 'r/decision.json')]]);
      const glob = await findFilesToUpload(ws, 'r/**/*.json\n!r/backup/', false);
      expect([glob.root, glob.files]).toEqual([path.join(ws, 'r'), [path.join(ws, 'r/decision.json')]]);
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  });
});

describe('workflow harness: what a step tells the runner', () => {
  it('reads GITHUB_OUTPUT lines and heredocs, and refuses an unterminated heredoc', () => {
    expect(parseKeyValueFile('a=1\nb<<EOF_1\nline 1\nline=2\nEOF_1\nc=x<<y\n', 'GITHUB_OUTPUT')).toEqual({
      a: '1',
      b: 'line 1\nline=2',
      c: 'x<<y',
    });
    expect(() => parseKeyValueFile('b<<EOF\nnever closed\n', 'GITHUB_OUTPUT')).toThrow(/no closing delimiter EOF for b/);
  });

  it('reads annotations and masks, honours ::stop-commands::, and masks the log longest value first', () => {
    const c = parseStdoutCommands(
      [
        '::add-mask::hunter2',
        '::error file=a.sql,line=4::bad%0Athing',
        '::stop-commands::tok',
        '::error::not a command now',
        '::tok::',
        '::warning::w',
      ].join('\n'),
    );
    expect(c.masks).toEqual(['hunter2']);
    expect(c.annotations).toEqual([
      { level: 'error', message: 'bad\nthing', properties: { file: 'a.sql', line: '4' } },
      { level: 'warning', message: 'w', properties: {} },
    ]);
    expect(maskLog('pw hunter2 and hunter2-derived', ['hunter2', 'hunter2-derived'])).toBe('pw *** and ***');
  });

  it('redirects only the connection string of a service to its stand-in, never the target on the same server', () => {
    const svc: ServiceStandIn = {
      id: 'scratch',
      url: 'postgresql://postgres@127.0.0.1:5432/astm53b_svc_scratch_1',
      hostPort: '5432',
      containerPort: '5432',
      user: 'postgres',
      database: 'postgres',
      drop: async () => {},
    };
    expect(redirectToServices('scratch-url: postgresql://postgres@localhost:5432/postgres', [svc])).toBe(
      'scratch-url: postgresql://postgres@127.0.0.1:5432/astm53b_svc_scratch_1',
    );
    const target = 'postgresql://postgres@127.0.0.1:5432/astm53b_wf_target';
    expect(redirectToServices(target, [svc])).toBe(target);
    expect(redirectToServices('postgresql://postgres@localhost:5433/postgres', [svc])).toBe(
      'postgresql://postgres@localhost:5433/postgres',
    );
  });
});
