/**
 * Finds raw secrets in a byte stream fed chunk by chunk (a secret may straddle two chunks, so
 * the tail of the previous chunk is kept). The bundle refuses a file that carries one: evidence
 * files are hashed as they are, never rewritten, so the only safe answer is not to ship them.
 * Same floor as `redact`: shorter strings are not treated as secrets.
 */
export class SecretScanner {
  private readonly needles: Buffer[];
  private readonly keep: number;
  private tail = Buffer.alloc(0);
  private hit = false;

  constructor(secrets: readonly string[]) {
    this.needles = [...new Set(secrets)].filter((s) => s.length >= 3).map((s) => Buffer.from(s, 'utf8'));
    this.keep = Math.max(0, ...this.needles.map((n) => n.length - 1));
  }

  get active(): boolean {
    return this.needles.length > 0;
  }

  get found(): boolean {
    return this.hit;
  }

  feed = (chunk: Buffer): void => {
    if (this.hit || !this.needles.length) return;
    const window = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    if (this.needles.some((n) => window.includes(n))) this.hit = true;
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - this.keep)));
  };
}

export function textHasSecret(text: string, secrets: readonly string[]): boolean {
  const s = new SecretScanner(secrets);
  s.feed(Buffer.from(text, 'utf8'));
  return s.found;
}
