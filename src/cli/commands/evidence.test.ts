import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../errors.js';
import { memoryLogger } from '../../logger.js';
import { writeSyntheticResults } from '../../testing/evidence-results.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { evidenceCommands } from './evidence.js';

const root = mkdtempSync(path.join(tmpdir(), 'astm53b-evidence-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const excerpt = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'evidence', '__fixtures__', 'CHANGELOG.excerpt.md');
let n = 0;

/** A working folder as on the engineer's laptop: astm53b-results/ and evidence/sep.txt. */
async function workdir(opts: Parameters<typeof writeSyntheticResults>[1] = {}): Promise<string> {
  const cwd = path.join(root, `w${++n}`);
  await writeSyntheticResults(path.join(cwd, 'astm53b-results'), opts);
  mkdirSync(path.join(cwd, 'evidence'), { recursive: true });
  writeFileSync(path.join(cwd, 'evidence', 'sep-mail.eml'), 'From: SEP\n\nREC-2026-03-01 : 38123.4 L à 15 °C\n');
  return cwd;
}

/** What the dispatcher does: option defaults from the spec, then run() with captured output. */
async function run(
  name: string,
  cwd: string,
  values: CommandContext['values'],
  positionals: string[] = [],
  env: NodeJS.ProcessEnv = { GITHUB_SHA: 'f'.repeat(40), GITHUB_ACTOR: 'ops-lead' },
) {
  const spec = evidenceCommands.find((c) => c.name === name) as CommandSpec;
  const withDefaults: CommandContext['values'] = { ...values };
  for (const [k, o] of Object.entries(spec.options))
    if (withDefaults[k] === undefined && o.default !== undefined) withDefaults[k] = o.default;
  let out = '';
  const code = await spec.run({ values: withDefaults, positionals, out: (t) => (out += t), log: memoryLogger(), cwd, env });
  return { code: code ?? 0, out };
}

describe('astm53b evidence / changelog commands', () => {
  it('evidence build then evidence verify: 0, and 1 naming the file once the bundle is altered', async () => {
    const cwd = await workdir();
    const built = await run('evidence build', cwd, {
      out: 'out/bundle.zip',
      sep: ['evidence/sep-mail.eml'],
      'changelog-pr': 'https://github.com/VALERYkal/ml_pp_mvp/pull/77',
    });
    expect(built.code).toBe(0);
    // every results file, the SEP file, and the five the bundle generates
    const files =
      readdirSync(path.join(cwd, 'astm53b-results'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length + 1 + 5;
    expect(built.out).toMatch(
      new RegExp(
        `^bundle {6}.*out/bundle\\.zip\nsha256 {6}[0-9a-f]{64} \\(\\d+ bytes, ${files} files\\)\ndecision {4}GO\nsignature {3}NOT signed \\(no --signing-key\\): authenticity cannot be checked\nrunbook 5\\.7 all archives present\n$`,
      ),
    );
    const sha = /sha256 {6}([0-9a-f]{64})/.exec(built.out)![1]!;

    const ok = await run('evidence verify', cwd, { 'expect-sha256': sha }, ['out/bundle.zip']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      new RegExp(`^VERIFIED: .*bundle\\.zip\n {2}zip SHA-256 {2}[0-9a-f]{64} \\(\\d+ bytes\\) = expected\n {2}files {8}${files} checked`),
    );

    // the SEP file is stored deflated; change one byte of its compressed data
    const zip = path.join(cwd, 'out', 'bundle.zip');
    const bytes = readFileSync(zip);
    const name = Buffer.from('sep/sep-mail.eml');
    const local = bytes.indexOf(Buffer.concat([name]), 0);
    const dataStart = local + name.length; // archiver writes no extra field in the local header
    bytes[dataStart + 3] = bytes[dataStart + 3]! ^ 0x20;
    writeFileSync(zip, bytes);
    const bad = await run('evidence verify', cwd, {}, ['out/bundle.zip']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^NOT VERIFIED/);
    expect(bad.out).toMatch(/✗ sep\/sep-mail\.eml: /);
  });

  it('exits 1 when the decision is GO but runbook 5.7 archives are missing, and still writes the bundle', async () => {
    const cwd = await workdir({ flutterCommit: null });
    const r = await run('evidence build', cwd, { out: 'bundle.zip' });
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'runbook 5.7 INCOMPLETE: Mettre à jour CHANGELOG.md (section [Unreleased] → PROD); Archiver hash commit Flutter déployé; Archiver confirmation terrain SEP (mail / WhatsApp export)',
    );
    expect((await run('evidence verify', cwd, {}, ['bundle.zip'])).code).toBe(0);
  });

  it('changelog entry prints the entry, or inserts it under the one heading named', async () => {
    const cwd = await workdir();
    const printed = await run('changelog entry', cwd, {
      sep: ['evidence/sep-mail.eml'],
      date: '2026-03-12',
      'run-id': 'depot/astm53b#42.1',
    });
    expect(printed.out.split('\n')[0]).toBe('## [2026-03-12] — Migration ASTM 53B (API MPMS 11.1) + DB-STRICT validate_sortie (PROD)');
    expect(printed.out).toContain('`sep/sep-mail.eml`');
    expect(printed.out).toContain(`\`${'f'.repeat(40)}\``);

    const changelog = path.join(cwd, 'CHANGELOG.md');
    const original = readFileSync(excerpt, 'utf8');
    writeFileSync(changelog, original);
    const ambiguous = await run('changelog entry', cwd, { changelog: 'CHANGELOG.md', under: '## [Unreleased]' }).catch((e: unknown) => e);
    expect(ambiguous).toBeInstanceOf(UserError);
    expect((ambiguous as UserError).code).toBe('CHANGELOG_HEADING_AMBIGUOUS');
    expect(readFileSync(changelog, 'utf8')).toBe(original);

    const inserted = await run('changelog entry', cwd, {
      changelog: 'CHANGELOG.md',
      under: '## [Unreleased]',
      occurrence: '1',
      sep: ['evidence/sep-mail.eml'],
      date: '2026-03-12',
      'run-id': 'depot/astm53b#42.1',
    });
    expect(inserted.out).toBe('entry inserted into CHANGELOG.md at line 11, in the section of line 9\n');
    const now = readFileSync(changelog, 'utf8');
    const marker = '<!-- astm53b-entry: run depot/astm53b#42 -->\n';
    const at = now.indexOf(marker + printed.out);
    expect(at).toBeGreaterThan(0);
    // only the marker and the entry (with the blank line before them) were added
    expect(now.slice(0, at - 1) + now.slice(at + marker.length + printed.out.length)).toBe(original);

    // the same run again: the entry is found by its marker, the file is not touched
    const again = await run('changelog entry', cwd, {
      changelog: 'CHANGELOG.md',
      under: '## [Unreleased]',
      occurrence: '1',
      sep: ['evidence/sep-mail.eml'],
      date: '2026-03-12',
      'run-id': 'depot/astm53b#42.1',
    });
    expect(again.out).toBe(`entry already in CHANGELOG.md at line 11 (${marker.trim()}): unchanged\n`);
    expect(readFileSync(changelog, 'utf8')).toBe(now);
  });

  it('says what is wrong with the options, before reading anything', async () => {
    const cwd = await workdir();
    const err = async (name: string, values: CommandContext['values'], pos: string[] = []) => {
      const e = await run(name, cwd, values, pos).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UserError);
      return e as UserError;
    };
    expect((await err('evidence build', {})).where?.field).toBe('out');
    expect((await err('evidence build', { out: 'b.zip', changelog: 'CHANGELOG.md' })).where?.field).toBe('under');
    expect(
      (await err('evidence build', { out: 'b.zip', changelog: 'CHANGELOG.md', under: '## [Unreleased]', occurrence: 'two' })).where?.field,
    ).toBe('occurrence');
    expect((await err('evidence verify', {}, [])).code).toBe('MISSING_ARGUMENT');
    expect((await err('evidence verify', { 'expect-sha256': 'abc' }, ['b.zip'])).where?.field).toBe('expect-sha256');
    expect((await err('evidence verify', {}, ['missing.zip'])).code).toBe('NOT_A_BUNDLE');
    writeFileSync(path.join(cwd, 'not.zip'), 'hello');
    expect((await err('evidence verify', {}, ['not.zip'])).message).toContain('no end-of-central-directory record');
  });
});
