import { existsSync } from 'node:fs';
import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { buildBundle } from '../../evidence/bundle.js';
import { runInfoFrom } from '../../evidence/run-info.js';
import { secretsOf } from '../../db/secrets.js';
import { renderEvidenceMarkdown } from '../../report/evidence.js';
import { readDatabaseUrl, readInputs, readSigningKeyInput } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR } from '../results.js';
import { runAction } from '../run.js';

/**
 * Action `evidence` (runbook 5.7): the same buildBundle as `astm53b evidence build`. The workflow
 * runs it `always()`, after a GO, a NO-GO or a failure, then uploads the zip; the SHA-256 output
 * is what an auditor compares with `astm53b evidence verify --expect-sha256`.
 */
const EvidenceInputs = z.object({
  'results-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  output: z.string().optional(),
  'sep-files': z.string().default(''),
  'changelog-file': z.string().optional(),
  'changelog-under': z.string().optional(),
  'changelog-occurrence': z
    .string()
    .regex(/^[1-9]\d*$/, { message: 'must be 1, 2, …' })
    .optional(),
  'changelog-pr': z.string().optional(),
  date: z.string().optional(),
  title: z.string().optional(),
});

/**
 * `redact-secrets`: the values of the workflow's secrets, one per line (`${{ secrets.X }}`
 * lines), so the bundle refuses any results file that carries one in clear. A connection string
 * is secret through its password (decoded or not), as `database-url` is: with one, the string
 * and the password are looked for; without one it is a plain address that every step's results
 * name as their target, so looking for it would refuse every bundle of a run that authenticates
 * otherwise (a peer or certificate login). Each is masked at once.
 */
export function secretsToScan(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    out.push(...(/^postgres(ql)?:\/\//i.test(line) ? secretsOf(line) : [line]));
  }
  return [...new Set(out)];
}

const signingKeyLines = (pem: string): string[] =>
  pem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'));

/**
 * The SEP files as the dispatch form can type them (one line: comma- or space-separated) or as a
 * workflow writes them (one per line). SEP exports often have spaces in their names
 * ("WhatsApp Chat - SEP.txt"): a piece that names an existing file is kept whole, and only a
 * piece that does not, but whose space-separated parts all do, is split on its spaces. Anything
 * else is kept as typed, so that the missing file is named as such.
 */
export function splitFileList(text: string, exists: (file: string) => boolean = existsSync): string[] {
  const out: string[] = [];
  for (const piece of text.split(/\r?\n|,/).map((s) => s.trim())) {
    if (!piece) continue;
    const words = piece.split(/\s+/);
    if (words.length > 1 && !exists(piece) && words.every((w) => exists(w))) out.push(...words);
    else out.push(piece);
  }
  return out;
}

export function evidenceAction(): Promise<void> {
  return runAction('evidence', async (log) => {
    const signingKey = readSigningKeyInput();
    const scanned = secretsToScan(core.getInput('redact-secrets'));
    for (const s of scanned) core.setSecret(s);
    const i = readInputs(EvidenceInputs);
    // optional: given only so its password is kept out of every file of the bundle
    const url = core.getInput('database-url').trim() ? readDatabaseUrl() : undefined;
    const env = process.env;
    const out = i.output ?? `astm53b-evidence-${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}.zip`;
    const under = i['changelog-under'];
    if (i['changelog-file'] && !under) {
      throw new UserError(
        'MISSING_INPUT',
        'changelog-file needs changelog-under (the heading the entry goes after, e.g. "## [Unreleased]")',
        { where: { field: 'changelog-under' } },
      );
    }
    const r = await buildBundle(
      {
        resultsDir: path.resolve(i['results-dir']),
        out: path.resolve(out),
        run: runInfoFrom(env),
        sepEvidence: splitFileList(i['sep-files']).map((f) => path.resolve(f)),
        changelog: {
          ...(i.date ? { date: i.date } : {}),
          ...(i.title ? { title: i.title } : {}),
          ...(i['changelog-file'] && under
            ? {
                insertInto: {
                  file: path.resolve(i['changelog-file']),
                  under: i['changelog-occurrence'] ? { heading: under, occurrence: Number(i['changelog-occurrence']) } : under,
                },
              }
            : {}),
          ...(i['changelog-pr'] ? { pullRequest: i['changelog-pr'] } : {}),
        },
        secrets: [
          ...(url ? secretsOf(url) : []),
          ...(env.DATABASE_URL ? secretsOf(env.DATABASE_URL) : []),
          ...scanned,
          // the key's own base64 lines: a results file must never carry it either
          ...(signingKey ? signingKeyLines(core.getInput('signing-key')) : []),
        ],
        ...(signingKey ? { signingKey } : {}),
        env,
      },
      log,
    );
    core.setOutput('bundle-path', r.out);
    core.setOutput('sha256', r.sha256);
    core.setOutput('decision', r.manifest.decision);
    core.setOutput('complete', String(r.incomplete.length === 0));
    core.setOutput('signed', String(r.manifest.signature !== null));
    if (!signingKey) log.warn('evidence: no signing-key: the bundle is NOT signed, and its authenticity cannot be checked');
    await core.summary
      .addRaw(
        // the decision first, as in report.md; the zip's own hash for the auditor at the end
        `${renderEvidenceMarkdown({ manifest: r.manifest, facts: r.facts })}\n**Bundle** \`${path.basename(r.out)}\` SHA-256 \`${r.sha256}\`\n`,
      )
      .write();
    if (r.manifest.decision === 'GO' && r.incomplete.length) {
      return {
        failure: `decision GO but runbook 5.7 archives are missing (${r.incomplete.join('; ')}): no ASTM53B migration is valid without them`,
      };
    }
    return undefined;
  });
}
