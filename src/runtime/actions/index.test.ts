import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../paths.js';
import { ACTIONS } from './index.js';

/** Every action folder is wired to a body in the one bundle, and every body has its folder. */
describe('actions/', () => {
  const dir = path.join(PACKAGE_ROOT, 'actions');
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

  it('has one folder per action body and no folder without a body', () => {
    expect(folders).toEqual(Object.keys(ACTIONS).sort());
  });

  it.each(folders)(
    '%s: action.yml runs the generated entry on node24 (GitHub moves actions off Node 20), and the entry calls its own body',
    (name) => {
      const yml = readFileSync(path.join(dir, name, 'action.yml'), 'utf8');
      expect(yml).toMatch(/^runs:\n {2}using: 'node24'\n {2}main: 'index\.cjs'\n?$/m);
      expect(yml).toMatch(/^description: /m);
      const entry = readFileSync(path.join(dir, name, 'index.cjs'), 'utf8');
      expect(entry).toContain(`require('../../dist/index.cjs').runActionByName(${JSON.stringify(name)});`);
    },
  );

  it.each(folders)('%s: every input and output is documented', (name) => {
    const yml = readFileSync(path.join(dir, name, 'action.yml'), 'utf8');
    const sections = yml.split(/^(inputs|outputs|runs):\n/m);
    for (const section of ['inputs', 'outputs']) {
      const i = sections.indexOf(section);
      if (i < 0) continue;
      const body = sections[i + 1]!;
      for (const key of body.matchAll(/^ {2}([a-z0-9-]+):\n((?: {4}.*\n?)*)/gm)) {
        expect(key[2], `${name} ${section}.${key[1]}`).toMatch(/description:/);
      }
    }
  });
});
