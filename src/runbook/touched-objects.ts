import type { SqlStatement } from '../db/sql-split.js';
import type { FingerprintEntry } from '../results/common.js';
import type { TouchedObjects } from '../results/preflight.js';

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const QUALIFIED = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)`;

function norm(qualified: string): string {
  const parts = qualified.split(/\s*\.\s*/).map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase()));
  return parts.length === 1 ? `public.${parts[0]}` : parts.join('.');
}

const PATTERNS: { kind: keyof TouchedObjects; re: RegExp; build: (m: RegExpExecArray) => string }[] = [
  {
    kind: 'functions',
    re: new RegExp(
      String.raw`^(?:CREATE\s+(?:OR\s+REPLACE\s+)?|ALTER\s+|DROP\s+)(?:FUNCTION|PROCEDURE)\s+(?:IF\s+EXISTS\s+)?${QUALIFIED}`,
      'i',
    ),
    build: (m) => norm(m[1]!),
  },
  {
    kind: 'triggers',
    re: new RegExp(
      String.raw`^(?:CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?|DROP\s+)TRIGGER\s+(?:IF\s+EXISTS\s+)?(${IDENT})[\s\S]*?\bON\s+${QUALIFIED}`,
      'i',
    ),
    build: (m) => `${norm(m[2]!)}.${norm(m[1]!).split('.').pop()}`,
  },
  {
    kind: 'policies',
    re: new RegExp(String.raw`^(?:CREATE|ALTER|DROP)\s+POLICY\s+(?:IF\s+EXISTS\s+)?(${IDENT})\s+ON\s+${QUALIFIED}`, 'i'),
    build: (m) => `${norm(m[2]!)}.${norm(m[1]!).split('.').pop()}`,
  },
  {
    kind: 'tables',
    re: new RegExp(String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?${QUALIFIED}`, 'i'),
    build: (m) => norm(m[1]!),
  },
  {
    kind: 'tables',
    re: new RegExp(String.raw`^(?:GRANT|REVOKE)\s[\s\S]*?\bON\s+(?:TABLE\s+)?${QUALIFIED}\s+(?:TO|FROM)\b`, 'i'),
    build: (m) => norm(m[1]!),
  },
];

export function touchedObjects(statements: readonly SqlStatement[]): TouchedObjects {
  const out: Record<keyof TouchedObjects, Set<string>> = {
    functions: new Set(),
    triggers: new Set(),
    policies: new Set(),
    tables: new Set(),
  };
  for (const s of statements) {
    for (const p of PATTERNS) {
      const m = p.re.exec(s.sql);
      if (m) out[p.kind].add(p.build(m));
    }
  }
  const sorted = (k: keyof TouchedObjects) => [...out[k]].sort();
  return { functions: sorted('functions'), triggers: sorted('triggers'), policies: sorted('policies'), tables: sorted('tables') };
}

/** Does a fingerprint entry describe one of the touched objects? */
export function isTouched(e: FingerprintEntry, t: TouchedObjects): boolean {
  switch (e.kind) {
    case 'function':
    case 'function_grant':
      return t.functions.some((f) => e.name.startsWith(`${f}(`));
    case 'trigger':
      return t.triggers.includes(e.name);
    case 'policy':
      return t.policies.includes(e.name);
    case 'rls':
      return t.tables.includes(e.name);
    case 'table_grant':
      return t.tables.some((tb) => e.name.startsWith(`${tb} to `));
  }
}
