import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../paths.js';
import { setSystemIdentifier, tarEntries } from './pg-control.js';

/**
 * The pre-made empty cluster every new embedded database is loaded from, instead of PGlite's initdb.
 * initdb runs in two more WebAssembly instances beside the new one: about 800 MB of peak memory
 * before any data, against about 280 MB to load a cluster (bench/README.md). The template is
 * PGlite's own initdb output, made by `node scripts/pglite-template.mjs` and committed (brotli, a
 * large window: the three near-identical databases of an empty cluster compress to about 1.3 MB).
 *
 * The manifest beside it records the PGlite version that made it, and what the template's cluster
 * is (src/db/pglite-template.embedded.test.ts proves it against a fresh initdb of the installed PGlite): a
 * template of another PGlite version is not loaded, the cluster is made by initdb as before (the
 * same cluster, only the memory differs), and that test fails until the template is regenerated.
 */
export const TEMPLATE_PATH = path.join(PACKAGE_ROOT, 'src/db/pglite-template.tar.br');
export const TEMPLATE_MANIFEST_PATH = path.join(PACKAGE_ROOT, 'src/db/pglite-template.json');

export const TemplateManifest = z.object({
  /** The @electric-sql/pglite version whose initdb made the template. */
  pglite: z.string(),
  /** `SELECT version()` of that cluster. */
  server_version: z.string(),
  /** The PG_VERSION file (the major version). */
  pg_version: z.string(),
  /** pg_control_system() of the template's cluster: the server refuses a catalog version not its own. */
  pg_control_version: z.number().int(),
  catalog_version_no: z.number().int(),
  /** The .tar.br file. */
  bytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type TemplateManifest = z.infer<typeof TemplateManifest>;

/** The version of @electric-sql/pglite this process loads (its package.json is not exported: found beside its entry). */
export function installedPgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  let dir = path.dirname(entry);
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const pkg = createRequire(path.join(dir, 'x.js'));
    try {
      const json = pkg('./package.json') as { name?: string; version?: string };
      if (json.name === '@electric-sql/pglite' && json.version) return json.version;
    } catch {
      // not this folder
    }
  }
  throw new Error(`no package.json of @electric-sql/pglite above ${entry}`);
}

/** Why the template cannot be loaded by the installed PGlite, or undefined when it can. */
export function templateProblem(manifest: TemplateManifest, bytes: Buffer, installed: string): string | undefined {
  if (manifest.pglite !== installed) return `it was made by PGlite ${manifest.pglite}, this is PGlite ${installed}`;
  if (bytes.length !== manifest.bytes || createHash('sha256').update(bytes).digest('hex') !== manifest.sha256) {
    return `${path.basename(TEMPLATE_PATH)} is not the file its manifest describes (size or SHA-256)`;
  }
  return undefined;
}

/** The template's bytes (compressed), read and checked once per process; undefined when it is not for this PGlite. */
let loaded: Promise<Buffer | undefined> | undefined;

async function readTemplate(): Promise<Buffer | undefined> {
  let problem: string | undefined;
  let bytes: Buffer | undefined;
  try {
    const manifest = TemplateManifest.parse(JSON.parse(await readFile(TEMPLATE_MANIFEST_PATH, 'utf8')));
    bytes = await readFile(TEMPLATE_PATH);
    problem = templateProblem(manifest, bytes, installedPgliteVersion());
  } catch (e) {
    problem = `it cannot be read: ${(e as Error).message}`;
  }
  if (!problem) return bytes;
  // once per process, on stderr: the run goes on as before the template, with more memory
  process.emitWarning(
    `the committed empty cluster (src/db/pglite-template.tar.br) is not used: ${problem}; PGlite's initdb makes each new cluster (about 800 MB of memory at that moment). Regenerate it: node scripts/pglite-template.mjs`,
  );
  return undefined;
}

/** A new empty cluster's data folder as a tar, with its own system identifier; undefined when the template is not usable. */
async function newClusterTar(): Promise<Buffer | undefined> {
  loaded ??= readTemplate();
  const bytes = await loaded;
  if (!bytes) return undefined;
  const tar = brotliDecompressSync(bytes);
  setSystemIdentifier(tar);
  return tar;
}

/**
 * A new empty cluster for an in-memory PGlite (its `loadDataDir`); undefined when the committed
 * template is missing, damaged or of another PGlite version (the caller runs initdb).
 */
export async function emptyClusterFromTemplate(): Promise<Blob | undefined> {
  const tar = await newClusterTar();
  return tar ? new Blob([tar]) : undefined;
}

/**
 * Writes a new empty cluster into `dataDir` (where PGlite found no PG_VERSION), where PGlite then
 * opens it as an existing one: no copy of the folder passes through PGlite's memory (its loadDataDir
 * reads the whole tar into an ArrayBuffer, then each file into its file system on the way to the
 * disk). False when the template is not usable (the caller runs initdb). Folders 0700 and files
 * 0600, as initdb makes them. PG_VERSION is written last: a write that fails (full disk…) leaves a
 * folder that is still no cluster, and the next open writes it again.
 */
export async function writeEmptyCluster(dataDir: string): Promise<boolean> {
  const tar = await newClusterTar();
  if (!tar) return false;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const entries = tarEntries(tar);
  const last = entries.filter((e) => e.name === 'PG_VERSION');
  for (const e of [...entries.filter((x) => x.name !== 'PG_VERSION'), ...last]) {
    const to = path.join(dataDir, e.name);
    if (e.type === 'dir') await mkdir(to, { recursive: true, mode: 0o700 });
    else {
      await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
      await writeFile(to, tar.subarray(e.start, e.start + e.size), { mode: 0o600 });
    }
  }
  return true;
}
