import { describePg, useFreshDatabase } from '../testing/pg.js';
import { p0_1Contract } from '../testing/p0-1-contract.js';

/** Our P0.1 change file on the demo depot, real PostgreSQL (the same contract runs on PGlite: p0-1.embedded.test.ts). */
describePg('our P0.1 change file on the demo depot (real PostgreSQL)', () => {
  const fx = useFreshDatabase('p0_1', { fixture: true });
  p0_1Contract(() => fx().db);
});
