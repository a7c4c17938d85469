import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { linesOf } from './restore-script.js';

async function collect(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  // objectMode off: each Buffer arrives as one chunk, as pg_restore's stdout delivers them
  for await (const line of linesOf(Readable.from(chunks, { objectMode: false }))) out.push(line);
  return out;
}

/** The bytes cut at every position: each cut is one chunk boundary. */
function cutEverywhere(bytes: Buffer): Buffer[][] {
  return Array.from({ length: bytes.length - 1 }, (_, i) => [bytes.subarray(0, i + 1), bytes.subarray(i + 1)]);
}

describe('linesOf (the lines of pg_restore’s script)', () => {
  const text = "COMMENT ON TABLE t IS 'réception validée – 15 °C';\nCOPY t (x) FROM stdin;\nPARTENAIRE\t€ 12\n\\.\nfin";
  const bytes = Buffer.from(text, 'utf8');

  it('keeps a multibyte character that a chunk boundary splits', async () => {
    const at = bytes.indexOf(Buffer.from('é', 'utf8'));
    // the 2-byte 'é' cut in its middle
    const lines = await collect([bytes.subarray(0, at + 1), bytes.subarray(at + 1)]);
    expect(lines).toEqual(text.split('\n'));
    expect(lines.join('\n')).not.toContain('\uFFFD');
  });

  it('gives the same lines wherever the stream is cut, byte by byte too', async () => {
    for (const chunks of cutEverywhere(bytes)) expect(await collect(chunks)).toEqual(text.split('\n'));
    expect(await collect([...bytes].map((b) => Buffer.from([b])))).toEqual(text.split('\n'));
  });

  it('yields a last line without its newline, and no empty line after a final newline', async () => {
    expect(await collect([Buffer.from('a\nb\n')])).toEqual(['a', 'b']);
    expect(await collect([Buffer.from('a\nb')])).toEqual(['a', 'b']);
  });
});
