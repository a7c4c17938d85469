import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ArtifactStore, StandInResult } from './artifacts.js';

/**
 * The third-party actions a workflow of ours may use, replaced by what they do to the job:
 * actions/checkout copies the repository (its tracked and untracked-but-not-ignored files, as
 * they are in the working tree, so a test sees uncommitted edits; never node_modules, which a
 * checkout does not have either) plus the scenario's commitFiles; upload-artifact / download-artifact go through the
 * run's ArtifactStore; attest-build-provenance records its subject (name and SHA-256) instead
 * of signing it. A `uses:` pinned to a commit counts as the release listed for that commit in
 * `pins`. Any other `uses:`, or another major version, fails the step by name: a stand-in
 * that guessed would let a workflow pass here that fails on GitHub.
 */
export interface Attestation {
  job: string;
  subjects: { name: string; sha256: string }[];
}

export interface StandInContext {
  job: string;
  workspace: string;
  repoDir: string;
  commitFiles: Record<string, string>;
  repository: string;
  artifacts: ArtifactStore;
  attestations: Attestation[];
}

const execFileP = promisify(execFile);

async function checkout(ctx: StandInContext, inputs: Record<string, string>): Promise<StandInResult> {
  const res: StandInResult = { ok: true, log: [], outputs: {}, warnings: [] };
  if (inputs.repository && inputs.repository !== ctx.repository) {
    return { ...res, ok: false, error: `the checkout stand-in copies only ${ctx.repository}, not ${inputs.repository}` };
  }
  const dest = path.resolve(ctx.workspace, inputs.path || '.');
  const { stdout } = await execFileP('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ctx.repoDir,
    maxBuffer: 64 * 1024 * 1024,
  });
  const files = stdout.split('\0').filter(Boolean);
  for (const f of files) {
    const from = path.join(ctx.repoDir, f);
    await mkdir(path.dirname(path.join(dest, f)), { recursive: true });
    // a file deleted in the working tree but still in the index is not part of what we test
    await cp(from, path.join(dest, f)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
  for (const [f, content] of Object.entries(ctx.commitFiles)) {
    await mkdir(path.dirname(path.join(dest, f)), { recursive: true });
    await writeFile(path.join(dest, f), content);
  }
  res.log.push(`checked out ${files.length} files of ${ctx.repository} into ${dest}`);
  return res;
}

async function attest(ctx: StandInContext, inputs: Record<string, string>): Promise<StandInResult> {
  const subjects: Attestation['subjects'] = [];
  if (inputs['subject-path']) {
    for (const p of inputs['subject-path']
      .split(/[\n,]/)
      .map((s) => s.trim())
      .filter(Boolean)) {
      const file = path.resolve(ctx.workspace, p);
      const bytes = await readFile(file).catch(() => undefined);
      if (!bytes) return { ok: false, log: [], outputs: {}, warnings: [], error: `Could not find subject at path ${file}` };
      subjects.push({ name: path.basename(file), sha256: createHash('sha256').update(bytes).digest('hex') });
    }
  } else if (inputs['subject-name'] && inputs['subject-digest']) {
    subjects.push({ name: inputs['subject-name'], sha256: inputs['subject-digest'].replace(/^sha256:/, '') });
  } else {
    return { ok: false, log: [], outputs: {}, warnings: [], error: 'One of subject-path or subject-digest must be provided' };
  }
  ctx.attestations.push({ job: ctx.job, subjects });
  const id = String(ctx.attestations.length);
  return {
    ok: true,
    log: subjects.map((s) => `attested ${s.name} sha256:${s.sha256} (recorded, not signed)`),
    outputs: { 'attestation-id': id, 'attestation-url': `https://github.com/${ctx.repository}/attestations/${id}`, 'bundle-path': '' },
    warnings: [],
  };
}

interface StandIn {
  majors: string[];
  /** commits a workflow pins this action to, and the release tag each one is (checked on GitHub when pinned) */
  pins?: Record<string, string>;
  run(ctx: StandInContext, inputs: Record<string, string>): Promise<StandInResult>;
}

const STAND_INS: Record<string, StandIn> = {
  // v5 to v7 moved checkout to node24 and changed only how credentials persist and fork PRs are refused
  'actions/checkout': { majors: ['v4', 'v5', 'v6', 'v7'], pins: { '3d3c42e5aac5ba805825da76410c181273ba90b1': 'v7.0.1' }, run: checkout },
  // v6/v7 (node24; v7 adds opt-in unzipped uploads) keep v4's rules for what the workflows use
  'actions/upload-artifact': {
    majors: ['v4', 'v6', 'v7'],
    pins: { bbbca2ddaa5d8feaa63e36b76fdaad77386f024f: 'v7.0.0' },
    run: (ctx, i) => ctx.artifacts.upload(ctx.workspace, i, ctx.job),
  },
  // v5 changed only downloads by artifact id, v6 digest checks, v7/v8 node24 and ESM
  'actions/download-artifact': {
    majors: ['v4', 'v7', 'v8'],
    pins: { '3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c': 'v8.0.1' },
    run: (ctx, i) => ctx.artifacts.download(ctx.workspace, i),
  },
  'actions/attest-build-provenance': {
    majors: ['v1', 'v2', 'v3', 'v4'],
    pins: { a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32: 'v4.1.0' },
    run: attest,
  },
};

export function runStandIn(uses: string, ctx: StandInContext, inputs: Record<string, string>): Promise<StandInResult> {
  const [name = '', at = ''] = uses.split('@');
  const s = STAND_INS[name];
  // a commit SHA stands for the release it was pinned as; an unknown commit is not guessed at
  const ref = /^[0-9a-f]{40}$/.test(at) ? (s?.pins?.[at] ?? at) : at;
  const major = /^v\d+/.exec(ref)?.[0] ?? ref;
  if (!s || !s.majors.includes(major)) {
    return Promise.resolve({ ok: false, log: [], outputs: {}, warnings: [], error: `the harness has no stand-in for ${uses}` });
  }
  return s.run(ctx, inputs);
}

/**
 * A `run:` step that installs system packages (apt-get, a key fetched with curl … | tee, a
 * package manager): skipped and listed in the run's report, since this machine has what they
 * install or the scenario stands in for it. The reason says which line made the call.
 */
export function packageInstallReason(script: string): string | undefined {
  const rules: [RegExp, string][] = [
    [/\bapt(?:-get)?\s+(?:-\S+\s+)*(?:install|update|upgrade)\b/, 'apt-get'],
    [/\bcurl\b[^\n]*(?:\s\/(?:usr|etc)\/|\|\s*(?:sudo\s+)?(?:tee|sh|bash)\b)/, 'curl into the system'],
    [/\|\s*sudo\s+tee\s+\/etc\//, 'tee into /etc'],
    [/\b(?:yum|dnf|apk|brew|snap)\s+(?:-\S+\s+)*install\b/, 'package manager'],
  ];
  for (const [re, why] of rules) {
    const line = script.split('\n').find((l) => re.test(l));
    if (line) return `${why}: ${line.trim()}`;
  }
  return undefined;
}
