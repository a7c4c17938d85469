import { describe, expect, it } from 'vitest';
import { maskConnectionString, redact, secretsOf } from './secrets.js';
import { isTransactionPooler, resolveTarget } from './target.js';

describe('connection secrets', () => {
  const url = 'postgresql://postgres.abcdefghij:S3cr%40t-pw@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require';

  it('masks the password and keeps the rest readable', () => {
    const m = maskConnectionString(url);
    expect(m).toBe('postgresql://postgres.abcdefghij:***@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require');
    expect(m).not.toContain('S3cr');
  });

  it('masks key=value DSNs too', () => {
    expect(maskConnectionString("host=db password='p w' user=x")).toBe('host=db password=*** user=x');
  });

  it('redacts the encoded and decoded password wherever it appears', () => {
    const s = secretsOf(url);
    expect(s).toContain('S3cr%40t-pw');
    expect(s).toContain('S3cr@t-pw');
    const text = `failed for S3cr@t-pw and S3cr%40t-pw in ${url}`;
    const out = redact(text, s);
    expect(out).not.toMatch(/S3cr/);
  });

  it('recognises the Supabase transaction pooler by its port', () => {
    expect(isTransactionPooler(url)).toBe(true);
    expect(isTransactionPooler(url.replace(':6543', ':5432'))).toBe(false);
  });

  it('refuses a URL that is not postgresql:// without echoing its password', () => {
    expect(() => resolveTarget({ url: 'mysql://u:hunter22@h/db', cwd: '/tmp' })).toThrow(/postgresql:\/\//);
    try {
      resolveTarget({ url: 'mysql://u:hunter22@h/db', cwd: '/tmp' });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('hunter22');
    }
  });

  it('defaults to the embedded database under the working directory', () => {
    const t = resolveTarget({ cwd: '/work/x' });
    expect(t).toMatchObject({ kind: 'embedded', dataDir: '/work/x/.astm53b/pgdata' });
  });
});
