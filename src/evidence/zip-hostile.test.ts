import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.js';
import { deflated, handZip, overlapping, stored, type HandEntry } from '../testing/hand-zip.js';
import { verifyBundle } from './verify.js';
import { readZipDirectory } from './zip-reader.js';
import { UnsafeZip } from './zip-safety.js';

/**
 * Hostile zips built by hand: `evidence verify` refuses each from its directory alone, before
 * inflating a byte, naming the entry (an earlier reader took 74 s and 20 GiB of inflation on a
 * zip whose entries shared their bytes).
 */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-hostile-zip-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function zipOf(bytes: Buffer): string {
  const file = path.join(root, `z${++n}.zip`);
  writeFileSync(file, bytes);
  return file;
}

const fine = [stored('manifest.json', '{}'), stored('SHA256SUMS', '')];

async function refused(file: string, entry: string, why: RegExp): Promise<void> {
  const t0 = Date.now();
  const r = await verifyBundle(file);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(r.ok).toBe(false);
  expect(r.checked).toBe(0);
  expect(r.problems).toEqual([{ path: entry, kind: 'unsafe', problem: expect.stringMatching(why) }]);
  const e = await readZipDirectory(file).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(UnsafeZip);
  expect((e as UnsafeZip).entry).toBe(entry);
}

describe('evidence verify refuses hostile zips before inflating anything', () => {
  it.each<[string, HandEntry, RegExp]>([
    ['a "../" name', stored('results/../../evil.sh', 'rm -rf ~'), /"\.\." segment/],
    ['an absolute path', stored('/etc/cron.d/evil', '* * * * * root sh'), /absolute path/],
    ['a drive letter', stored('C:/Windows/evil.bat', 'x'), /absolute path/],
    ['a backslash', stored('results\\..\\evil', 'x'), /backslash/],
  ])('%s', async (_what, entry, why) => {
    await refused(zipOf(handZip([...fine, entry])), entry.name, why);
  });

  it('a duplicate name, and a name differing only by case', async () => {
    await refused(
      zipOf(handZip([...fine, stored('results/decision.json', 'GO'), stored('results/decision.json', 'NO-GO')])),
      'results/decision.json',
      /appears twice/,
    );
    await refused(
      zipOf(handZip([...fine, stored('results/decision.json', 'GO'), stored('results/Decision.json', 'NO-GO')])),
      'results/Decision.json',
      /only by case/,
    );
  });

  it('two entries whose data overlap (one inside the other)', async () => {
    await refused(zipOf(overlapping()), 'b.txt', /shares bytes .* with "a\.txt"/);
  });

  it('two central records pointing at the same local header: the second does not carry its own name', async () => {
    const z = handZip([...fine, stored('a.txt', 'hello'), { ...stored('b.txt', 'hello'), sameLocalAs: 2 }]);
    await refused(zipOf(z), 'b.txt', /local header names it "a\.txt"/);
  });

  it('a high-ratio bomb: 64 MiB of zeros in a few KiB', async () => {
    const bomb = deflated('results/smoke.json', Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.data.length).toBeLessThan(100_000);
    await refused(zipOf(handZip([...fine, bomb])), 'results/smoke.json', /ratio \d+:1, limit 200:1/);
    // a genuine bundle that compresses that well can be read with a raised limit
    const r = await verifyBundle(zipOf(handZip([...fine, bomb])), { limits: { maxTotalBytes: 2 ** 40, maxRatio: 5000 } });
    expect(r.problems.some((p) => p.kind === 'unsafe')).toBe(false);
  });

  it('a declared total over --max-size, naming the entry that crosses it; the CLI option raises it', async () => {
    const big = stored('results/backup/database.dump.age', Buffer.alloc(600 * 1024, 7));
    const file = zipOf(handZip([...fine, big]));
    const r = await verifyBundle(file, { limits: { maxTotalBytes: 512 * 1024, maxRatio: 200 } });
    expect(r.problems).toEqual([{ path: big.name, kind: 'unsafe', problem: expect.stringMatching(/over the limit of 0\.5 MiB/) }]);
    const cli = await runCli(['evidence', 'verify', file, '--max-size', '512K', '--json']);
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout).problems[0]).toMatchObject({ path: big.name, kind: 'unsafe' });
    const raised = await runCli(['evidence', 'verify', file, '--max-size', '1M', '--json']);
    expect(JSON.parse(raised.stdout).problems.some((p: { kind: string }) => p.kind === 'unsafe')).toBe(false);
    const bad = await runCli(['evidence', 'verify', file, '--max-size', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/max-size/);
  });

  it('a deflated entry that inflates past its declared size is cut at that size, not inflated to the end', async () => {
    const liar = deflated('results/golden.json', Buffer.alloc(32 * 1024 * 1024, 0x20), 1000);
    const r = await verifyBundle(zipOf(handZip([...fine, liar])), { limits: { maxTotalBytes: 2 ** 40, maxRatio: 100_000 } });
    const p = r.problems.find((x) => x.path === liar.name);
    expect(p).toMatchObject({
      kind: 'unreadable',
      problem: expect.stringMatching(/inflates past the 1000 bytes the zip directory declares/),
    });
  });

  it('a local header that disagrees with the central directory', async () => {
    await refused(
      zipOf(handZip([...fine, { ...stored('results/decision.json', 'GO'), localName: 'results/decision.jsoN' }])),
      'results/decision.json',
      /local header names it/,
    );
  });
});
