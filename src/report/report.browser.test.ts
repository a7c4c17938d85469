import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../evidence/bundle.js';
import { openZipEntry, readZipDirectory } from '../evidence/zip-reader.js';
import { silentLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import { copyRehearsedResults } from '../testing/results.js';
import { writeSyntheticResults } from '../testing/evidence-results.js';

/**
 * report.html as a person sees it: opened from the bundle in headless Chromium (Debian's
 * chromium, driven by playwright-core; .ci/run installs it), on a laptop's screen. The decision
 * and every reason with what to do are above the fold; the golden chart's texts do not overlap
 * (their rendered boxes measured), each point carries its value, the ±5 L band is drawn. The
 * screenshots are kept under out/screenshots/ for a person to look at.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
const SHOTS = path.join(PACKAGE_ROOT, 'out', 'screenshots');
const VIEWPORT = { width: 1280, height: 800 };
const work = path.join(PACKAGE_ROOT, 'out', `report-browser-${process.pid}`);

let browser: Browser;
beforeAll(async () => {
  if (!hasChromium) return;
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // as root (CI) Chromium needs --no-sandbox; the rest keeps it off the closed network
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rm(work, { recursive: true, force: true });
});

/** The report.html of a bundle built from these results, as the zip holds it. */
async function reportOf(results: string, name: string): Promise<string> {
  const r = await buildBundle(
    {
      resultsDir: results,
      out: path.join(work, `${name}.zip`),
      run: { repository: 'depot/astm53b-pipeline', runId: 'depot/astm53b-pipeline#42.1', actor: 'ops-engineer' },
      now: new Date('2026-12-04T21:00:00Z'),
      env: {},
    },
    silentLogger,
  );
  const entry = (await readZipDirectory(r.out)).find((e) => e.name === 'report.html')!;
  const chunks: Buffer[] = [];
  for await (const c of await openZipEntry(r.out, entry)) chunks.push(c as Buffer);
  const file = path.join(work, `${name}.html`);
  await writeFile(file, Buffer.concat(chunks));
  return file;
}

async function open(file: string): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  // self-contained: any request other than the file itself fails the test
  const requests: string[] = [];
  page.on('request', (r) => {
    if (r.url() !== `file://${file}`) requests.push(r.url());
  });
  await page.goto(`file://${file}`);
  expect(requests).toEqual([]);
  return page;
}

interface Box {
  text: string;
  cls: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Every text of the chart with the box Chromium drew it in. */
const chartTexts = (page: Page): Promise<Box[]> =>
  page.$$eval('#golden svg text', (els) =>
    els.map((e) => {
      const b = e.getBoundingClientRect();
      return { text: e.textContent ?? '', cls: e.getAttribute('class') ?? '', x: b.x, y: b.y, w: b.width, h: b.height };
    }),
  );

const overlap = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function overlapping(boxes: Box[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) if (overlap(boxes[i]!, boxes[j]!)) out.push(`"${boxes[i]!.text}" × "${boxes[j]!.text}"`);
  return out;
}

describe.skipIf(!hasChromium)('report.html in headless Chromium', () => {
  it('a NO-GO (the runbook as written, a real rehearsal): the decision and every reason with what to do above the fold', async () => {
    const results = await copyRehearsedResults(path.join(work, 'nogo', 'astm53b-results'));
    const page = await open(await reportOf(results, 'nogo'));
    await page.screenshot({ path: path.join(SHOTS, 'report-nogo-first-screen.png') });
    const h1 = page.locator('h1');
    expect(await h1.textContent()).toBe('ASTM 53B migration: NO-GO');
    const reasons = page.locator('#verdict ol.reasons > li');
    // the rehearsal's reasons: the legacy receptions, the P0's stock incoherence, no sign-off
    expect(await reasons.count()).toBe(3);
    for (const el of [h1, ...(await reasons.locator('strong').all()), ...(await reasons.locator('.todo').all())]) {
      expect(await el.isVisible()).toBe(true);
      const b = (await el.boundingBox())!;
      expect(b.y + b.height, `${await el.textContent()} ends below the fold`).toBeLessThanOrEqual(VIEWPORT.height);
    }
    const todos = await reasons.locator('.todo').allTextContents();
    expect(todos[0]).toMatch(/^What to do: restate the receptions stored with the legacy formula/);
    expect(todos[1]).toMatch(/^What to do: apply the corrected change file sql\/docs\/DB_CHANGES\/2026-12-04_validate_sortie_p0_1\.sql/);
    expect(todos[2]).toMatch(/^What to do: the depot manager reads the smoke and golden results/);
    // the banner is the NO-GO red, not the GO green
    expect(
      await page
        .locator('#verdict')
        .evaluate(
          (e) =>
            (globalThis as unknown as { getComputedStyle(x: unknown): { borderLeftColor: string } }).getComputedStyle(e).borderLeftColor,
        ),
    ).toBe('rgb(176, 0, 32)');
  });

  it('the golden chart of the rehearsal (8 cases, 96 L off): no text over another, every point with its value, the band drawn', async () => {
    const results = await copyRehearsedResults(path.join(work, 'chart', 'astm53b-results'));
    const page = await open(await reportOf(results, 'chart'));
    const svg = page.locator('#golden svg');
    await svg.scrollIntoViewIfNeeded();
    await svg.screenshot({ path: path.join(SHOTS, 'report-golden-chart-nogo.png') });
    const texts = await chartTexts(page);
    expect(overlapping(texts)).toEqual([]);
    const svgBox = (await svg.boundingBox())!;
    for (const t of texts) {
      expect(t.x, t.text).toBeGreaterThanOrEqual(svgBox.x - 0.5);
      expect(t.x + t.w, t.text).toBeLessThanOrEqual(svgBox.x + svgBox.width + 0.5);
    }
    // 8 cases × (engine, ML_PP): 16 points, 16 values, each beside its own point
    const points = await page.$$eval('#golden svg circle, #golden svg rect[width="8"]', (els) =>
      els.map((e) => {
        const b = e.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2, title: e.querySelector('title')?.textContent ?? '' };
      }),
    );
    const values = texts.filter((t) => t.cls === 'value');
    expect(points).toHaveLength(16);
    expect(values).toHaveLength(16);
    for (const p of points) {
      const near = values.filter((v) => Math.abs(v.y + v.h / 2 - p.y) < 8 && Math.min(Math.abs(v.x - p.x), Math.abs(v.x + v.w - p.x)) < 16);
      expect(near.length, p.title).toBeGreaterThanOrEqual(1);
      // the value written is the one in the point's title
      const litres = Number(/(-?\d+\.\d) L$/.exec(p.title)![1]);
      expect(near.map((v) => Number(v.text.replace('−', '-')))).toContain(litres);
    }
    expect(texts.filter((t) => t.cls === 'case').map((t) => t.text)).toEqual(Array.from({ length: 8 }, (_, i) => `DEMO-CDR-${i + 1}`));
    // the ±5 L band: a filled band of some height, named in the legend
    const band = (await svg.locator('rect[fill="#e3f4e8"]').boundingBox())!;
    expect(band.height).toBeGreaterThan(2);
    expect(texts.some((t) => t.text.includes('within ±5 L'))).toBe(true);
  });

  it('a GO with three cases near the band: three axis labels for the band, no overlap either', async () => {
    const dir = path.join(work, 'go', 'astm53b-results');
    await writeSyntheticResults(dir, { decision: 'GO' });
    const page = await open(await reportOf(dir, 'go'));
    await page.screenshot({ path: path.join(SHOTS, 'report-go-first-screen.png') });
    expect(await page.locator('h1').textContent()).toBe('ASTM 53B migration: GO');
    const svg = page.locator('#golden svg');
    await svg.scrollIntoViewIfNeeded();
    await svg.screenshot({ path: path.join(SHOTS, 'report-golden-chart-go.png') });
    const texts = await chartTexts(page);
    expect(overlapping(texts)).toEqual([]);
    expect(texts.filter((t) => t.cls === 'axis').map((t) => t.text)).toEqual(expect.arrayContaining(['+5 L', '0', '−5 L']));
  });
});
