import { describe } from 'vitest';
import { useEmbeddedFixture } from '../testing/embedded.js';
import { p0_1Contract } from '../testing/p0-1-contract.js';

/** Our P0.1 change file on the demo depot, embedded PGlite: what the local rehearsal's database does with it. */
describe('our P0.1 change file on the demo depot (embedded PGlite)', () => {
  const fx = useEmbeddedFixture();
  p0_1Contract(fx);
});
