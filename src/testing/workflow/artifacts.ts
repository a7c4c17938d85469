import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { minimatch } from 'minimatch';

/**
 * Artifacts as actions/upload-artifact@v4 and actions/download-artifact@v4 keep them, the only
 * thing that passes from one job to another. Upload: `path` is one pattern per line, `!` lines
 * exclude (a directory with everything under it), hidden files are left out unless
 * include-hidden-files; the artifact's root is the pattern's directory before any wildcard, the
 * common ancestor of several patterns, or a single file's own directory; a name already
 * uploaded in the run is a conflict unless overwrite; nothing found is a warning, an error or
 * nothing (if-no-files-found). Download: `name` is one artifact into `path` (not found fails the
 * step), otherwise every artifact, filtered by `pattern`, each into `path/<name>/` unless
 * merge-multiple (no match is not an error).
 */
export interface Artifact {
  name: string;
  id: number;
  /** paths relative to the artifact's root, sorted */
  files: string[];
  retentionDays: number | undefined;
  job: string;
  dir: string;
}

export interface StandInResult {
  ok: boolean;
  log: string[];
  outputs: Record<string, string>;
  /** the step's annotation when it fails, worded as the real action words it */
  error?: string;
  warnings: string[];
}

const GLOB_CHARS = /[*?[{]/;
const isHidden = (rel: string): boolean => rel.split(path.sep).some((seg) => seg.startsWith('.'));

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** The directory part of a pattern before its first wildcard segment (@actions/glob's search path). */
function searchPathOf(pattern: string): string {
  const segs = pattern.split('/');
  const i = segs.findIndex((s) => GLOB_CHARS.test(s));
  return i < 0 ? pattern.replace(/\/+$/, '') || '/' : segs.slice(0, i).join('/') || '/';
}

/** A file matches a pattern when it or one of its directories does (implicit descendants). */
function matches(file: string, pattern: string): boolean {
  const p = pattern.replace(/\/+$/, '');
  for (let at = file; at !== path.dirname(at); at = path.dirname(at)) {
    if (at === p || minimatch(at, p, { dot: true })) return true;
  }
  return false;
}

function commonAncestor(paths: string[]): string {
  const split = paths.map((p) => path.normalize(p).split(path.sep));
  const out: string[] = [];
  for (let i = 0; split.every((s) => i < s.length && s[i] === split[0]![i]); i++) out.push(split[0]![i]!);
  return out.join(path.sep) || path.sep;
}

export async function findFilesToUpload(
  workspace: string,
  pathInput: string,
  includeHidden: boolean,
): Promise<{ files: string[]; root: string; searchPaths: string[] }> {
  const lines = pathInput
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const resolve = (p: string) => path.resolve(workspace, p) + (p.endsWith('/') ? '/' : '');
  const includes = lines.filter((l) => !l.startsWith('!')).map(resolve);
  const excludes = lines.filter((l) => l.startsWith('!')).map((l) => resolve(l.slice(1).trim()));
  const searchPaths = includes.map(searchPathOf);
  const found = new Set<string>();
  for (const [i, pattern] of includes.entries()) {
    const base = searchPaths[i]!;
    const s = await stat(base).catch(() => undefined);
    if (!s) continue;
    const candidates = s.isDirectory() ? await walk(base) : [base];
    for (const f of candidates) {
      if (!matches(f, pattern)) continue;
      if (!includeHidden && isHidden(path.relative(base, f))) continue;
      if (excludes.some((x) => matches(f, x))) continue;
      found.add(f);
    }
  }
  const files = [...found].sort();
  const root =
    searchPaths.length > 1
      ? commonAncestor(searchPaths)
      : files.length === 1 && files[0] === searchPaths[0]
        ? path.dirname(files[0]!)
        : (searchPaths[0] ?? workspace);
  return { files, root, searchPaths };
}

export class ArtifactStore {
  readonly artifacts = new Map<string, Artifact>();
  private nextId = 1;
  /** `earlier`: artifacts of earlier runs of the repository (run id → artifact name → folder of its files), for download-artifact's run-id */
  constructor(
    private readonly dir: string,
    private readonly earlier: Record<string, Record<string, string>> = {},
  ) {}

  /** download-artifact v4 with run-id: an artifact of another run, read with the given token (v4 requires github-token then) */
  private async earlierArtifact(inputs: Record<string, string>): Promise<Artifact | string> {
    const runId = inputs['run-id']!;
    if (!inputs['github-token']) return 'Unable to download artifact(s): run-id needs github-token';
    if (!inputs.name) return 'the harness downloads one named artifact of another run (give name)';
    const dir = this.earlier[runId]?.[inputs.name];
    if (!dir) return `Unable to download artifact(s): Artifact '${inputs.name}' not found in run ${runId}`;
    const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .sort();
    return { name: inputs.name, id: 0, files, retentionDays: undefined, job: `run ${runId}`, dir };
  }

  async upload(workspace: string, inputs: Record<string, string>, job: string): Promise<StandInResult> {
    const name = inputs.name || 'artifact';
    const ifNone = inputs['if-no-files-found'] || 'warn';
    const { files, root } = await findFilesToUpload(workspace, inputs.path ?? '', inputs['include-hidden-files'] === 'true');
    const res: StandInResult = { ok: true, log: [], outputs: {}, warnings: [] };
    if (!files.length) {
      const msg = `No files were found with the provided path: ${inputs.path}. No artifacts will be uploaded.`;
      if (ifNone === 'error') return { ...res, ok: false, error: msg };
      if (ifNone === 'warn') res.warnings.push(msg);
      res.log.push(msg);
      return res;
    }
    if (this.artifacts.has(name) && inputs.overwrite !== 'true') {
      return {
        ...res,
        ok: false,
        error: `Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run`,
      };
    }
    const dir = path.join(this.dir, String(this.nextId));
    const rel = files.map((f) => path.relative(root, f));
    for (const [i, f] of files.entries()) {
      await mkdir(path.dirname(path.join(dir, rel[i]!)), { recursive: true });
      await cp(f, path.join(dir, rel[i]!));
    }
    const artifact: Artifact = {
      name,
      id: this.nextId++,
      files: rel.sort(),
      retentionDays: inputs['retention-days'] ? Number(inputs['retention-days']) : undefined,
      job,
      dir,
    };
    this.artifacts.set(name, artifact);
    res.log.push(
      `With the provided path, there will be ${files.length} file${files.length === 1 ? '' : 's'} uploaded`,
      `Artifact ${name} uploaded`,
    );
    res.outputs = { 'artifact-id': String(artifact.id), 'artifact-url': `artifact://${artifact.id}` };
    return res;
  }

  async download(workspace: string, inputs: Record<string, string>): Promise<StandInResult> {
    const dest = path.resolve(workspace, inputs.path || '.');
    const res: StandInResult = { ok: true, log: [], outputs: { 'download-path': dest }, warnings: [] };
    let chosen: Artifact[];
    if (inputs['run-id']) {
      const a = await this.earlierArtifact(inputs);
      if (typeof a === 'string') return { ...res, ok: false, outputs: {}, error: a };
      chosen = [a];
    } else if (inputs.name) {
      const a = this.artifacts.get(inputs.name);
      if (!a) return { ...res, ok: false, outputs: {}, error: `Unable to download artifact(s): Artifact '${inputs.name}' not found` };
      chosen = [a];
    } else {
      chosen = [...this.artifacts.values()].filter((a) => !inputs.pattern || minimatch(a.name, inputs.pattern));
    }
    const merge = Boolean(inputs.name) || inputs['merge-multiple'] === 'true';
    for (const a of chosen) {
      const to = merge ? dest : path.join(dest, a.name);
      await mkdir(to, { recursive: true });
      for (const f of a.files) {
        await mkdir(path.dirname(path.join(to, f)), { recursive: true });
        await cp(path.join(a.dir, f), path.join(to, f));
      }
    }
    res.log.push(`Total of ${chosen.length} artifact(s) downloaded: ${chosen.map((a) => a.name).join(', ')}`);
    return res;
  }
}
