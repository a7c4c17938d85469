import { expect, it } from 'vitest';
import { memoryLogger } from '../../logger.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { goldenCommands } from './golden.js';

const DEMO = 'golden/demo-golden-cases.csv';

/** `astm53b golden verify` against the demo depot: the exit code says PASS or FAIL. */
describePg('astm53b golden verify on PostgreSQL', () => {
  const fx = useFreshDatabase('golden_cli', { fixture: true });

  it('the CLI: exit 1 on FAIL with --url, 0 without a database', async () => {
    const spec = goldenCommands.find((c) => c.name === 'golden verify')!;
    const run = async (values: Record<string, string | boolean>) => {
      let out = '';
      const code = await spec.run({
        values: { 'tolerance-l': '5', source: 'SEP_API_OFFICIEL', ...values },
        positionals: [DEMO],
        out: (t) => (out += t),
        log: memoryLogger(),
        cwd: process.cwd(),
        env: {},
      });
      return { code, out };
    };
    const withDb = await run({ url: fx().scratch.url, json: true });
    expect(withDb.code).toBe(1);
    expect(JSON.parse(withDb.out).cases[0].mlpp_volume_15c_l).toBeTypeOf('number');
    const alone = await run({});
    expect(alone.code).toBe(0);
    expect(alone.out).toContain('Golden cases: PASS (8/8 within ±5 L)');
  });
});
