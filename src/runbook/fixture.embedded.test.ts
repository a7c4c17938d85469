import { describe, expect, it } from 'vitest';
import { useEmbeddedFixture } from '../testing/embedded.js';
import { silentLogger } from '../logger.js';
import { fixtureContract } from '../testing/fixture-contract.js';
import { checkCompat } from './compat.js';

describe('ML_PP stock module fixture on embedded PGlite', () => {
  const fx = useEmbeddedFixture();

  it('is compatible: compat finds nothing missing', async () => {
    const r = await checkCompat(fx(), silentLogger);
    expect(r.items.filter((i) => i.status !== 'ok' && !i.optional)).toEqual([]);
    expect(r.compatible).toBe(true);
    expect(r.server.engine).toBe('pglite');
  });

  fixtureContract(fx);
});
