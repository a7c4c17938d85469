import type { Readable, Writable } from 'node:stream';

/**
 * A stream fed to a child's stdin with backpressure (an archive decrypted as pg_restore reads it).
 * A child may stop reading before the end (`pg_restore --list` reads the table of contents
 * only): its stdin then fails (EPIPE) or closes, which ends the feed. With `drain`, the rest of
 * the source is still read and dropped, so a check the source makes at its very end (the
 * plaintext's size and hash, age's last authenticated chunk) always runs.
 */
export async function feedStdin(source: Readable, stdin: Writable, opts: { drain: boolean }): Promise<void> {
  let open = true;
  const shut = () => {
    open = false;
  };
  stdin.on('error', shut);
  stdin.on('close', shut);
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        stdin.off('error', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
      stdin.on('error', done);
    });
  try {
    for await (const chunk of source) {
      if (!open) {
        if (opts.drain) continue;
        break;
      }
      if (!stdin.write(chunk)) await writable();
    }
  } catch (e) {
    // the child must not take a truncated input for a whole one
    stdin.destroy();
    throw e;
  } finally {
    source.destroy();
  }
  if (open) stdin.end();
}
