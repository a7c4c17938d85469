import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { table53b, table54b } from '../../astm/index.js';
import { silentLogger } from '../../logger.js';
import { astmCommands } from './astm.js';

/**
 * `astm53b batch` on 100 000 rows against its floor measured in the same run: the bare engine
 * on the same inputs, no CSV. vitest reports the ratio between the two.
 */
const ROWS = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'astm53b-bench-'));
const inputs = Array.from({ length: ROWS }, (_, i) => ({
  t53: i % 2 === 0,
  edition: (i % 3 === 0 ? '2004' : '1980') as '2004' | '1980',
  rounding: (['table', 'computed', 'full'] as const)[i % 3]!,
  density: 820 + (i % 400) / 10,
  temp: 10 + (i % 350) / 10,
  hydrometer: i % 2 === 0 && i % 4 === 0,
}));
const csv = join(dir, 'in.csv');
writeFileSync(
  csv,
  [
    'table,edition,rounding,density_kgm3,temperature_c,hydrometer,volume_l',
    ...inputs.map((r) => `${r.t53 ? '53B' : '54B'},${r.edition},${r.rounding},${r.density},${r.temp},${r.hydrometer},40000`),
  ].join('\n') + '\n',
);
const batch = astmCommands.find((c) => c.name === 'batch')!;

describe(`batch, ${ROWS} rows`, () => {
  bench(
    'baseline: engine only, same inputs',
    () => {
      for (const r of inputs) {
        if (r.t53)
          table53b({
            observedDensity: r.density,
            temperatureC: r.temp,
            hydrometer: r.hydrometer,
            edition: r.edition,
            rounding: r.rounding,
            volumeL: 40000,
          });
        else table54b({ density15: r.density, temperatureC: r.temp, edition: r.edition, rounding: r.rounding, volumeL: 40000 });
      }
    },
    { iterations: 3, warmupIterations: 1 },
  );
  bench(
    'astm53b batch (CSV in, CSV out)',
    async () => {
      await batch.run({ values: { out: join(dir, 'out.csv') }, positionals: [csv], out: () => {}, log: silentLogger, cwd: dir, env: {} });
    },
    { iterations: 3, warmupIterations: 1 },
  );
});
