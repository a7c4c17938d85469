import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../paths.js';
import { pipelineRelease } from '../../../scripts/reusable-workflows.mjs';

/** This repository on GitHub and its release tag, as package.json names them (what the reusable workflows reference). */
export const PIPELINE_RELEASE = pipelineRelease(JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const OWN = new RegExp(`^${escape(PIPELINE_RELEASE.repository)}/(actions/[\\w-]+)@${escape(PIPELINE_RELEASE.tag)}$`);

/**
 * The action of this tree a step runs: `./actions/x` as written, or this repository's own action
 * at its current release (`owner/name/actions/x@vX.Y.Z`, what a reusable workflow references),
 * which is the same code. Anything else (a third-party action, another release) is undefined.
 */
export function ownAction(uses: string | undefined): string | undefined {
  if (!uses) return undefined;
  if (uses.startsWith('./')) return uses;
  const m = OWN.exec(uses);
  return m ? `./${m[1]}` : undefined;
}
