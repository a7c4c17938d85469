import { describe, expect, it } from 'vitest';
import { isConnectionLost } from './lost-connection.js';

describe('isConnectionLost', () => {
  it('a terminated backend, a closed socket, a connection exception: the session is gone', () => {
    expect(isConnectionLost({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe(true);
    expect(isConnectionLost({ code: '08006', message: 'connection failure' })).toBe(true);
    expect(isConnectionLost({ code: 'ECONNRESET', message: 'read ECONNRESET' })).toBe(true);
    expect(isConnectionLost(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isConnectionLost(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('a refusal stays a refusal, whatever its text; a bug is not a lost connection', () => {
    expect(isConnectionLost({ code: 'P0001', message: 'Ecriture interdite sur sorties_produit (op=UPDATE)' })).toBe(false);
    expect(isConnectionLost({ code: 'P0001', message: 'Connection terminated by a trigger' })).toBe(false);
    expect(isConnectionLost({ code: '57014', message: 'canceling statement due to statement timeout' })).toBe(false);
    expect(isConnectionLost(new TypeError("Cannot read properties of undefined (reading 'rows')"))).toBe(false);
    expect(isConnectionLost(undefined)).toBe(false);
  });
});
