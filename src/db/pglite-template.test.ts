import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { installedPgliteVersion, TEMPLATE_MANIFEST_PATH, TEMPLATE_PATH, TemplateManifest, templateProblem } from './pglite-template.js';

describe('the committed empty cluster is loaded only by the PGlite that made it', () => {
  const manifest = TemplateManifest.parse(JSON.parse(readFileSync(TEMPLATE_MANIFEST_PATH, 'utf8')));
  const bytes = readFileSync(TEMPLATE_PATH);

  it('the committed file and its manifest: made by the installed PGlite (else: node scripts/pglite-template.mjs)', () => {
    expect(templateProblem(manifest, bytes, installedPgliteVersion())).toBeUndefined();
  });

  it('another PGlite version, or a file that is not the one described, is refused with the reason', () => {
    expect(templateProblem(manifest, bytes, '9.9.9')).toBe(`it was made by PGlite ${manifest.pglite}, this is PGlite 9.9.9`);
    const damaged = Buffer.from(bytes);
    damaged[100] = damaged[100]! ^ 1;
    expect(templateProblem(manifest, damaged, manifest.pglite)).toBe(
      'pglite-template.tar.br is not the file its manifest describes (size or SHA-256)',
    );
    expect(templateProblem(manifest, bytes.subarray(1), manifest.pglite)).toMatch(/is not the file its manifest describes/);
  });
});
