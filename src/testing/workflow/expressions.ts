import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { isBasicExpression, isBoolean, isMapping, isNumber, isSequence, isString } from '@actions/workflow-parser';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/index';
import { TokenType } from '@actions/workflow-parser/templates/tokens/types';

/**
 * `${{ }}` and `if:` evaluated by GitHub's own expression engine (@actions/expressions): its
 * lexer, parser, operators, coercions and built-in functions (contains, format, toJSON, …). The
 * status functions are the runner's and depend on where they are called: a step sees its job's
 * status so far, a job the results of the jobs it needs (see run-workflow.ts).
 */
export interface StatusFunctions {
  success(): boolean;
  failure(): boolean;
  cancelled(): boolean;
}

/** Every context as plain JSON; a missing one reads as null, as on GitHub. */
export type Contexts = Record<string, unknown>;

const CONTEXT_NAMES = ['github', 'env', 'vars', 'secrets', 'inputs', 'needs', 'steps', 'job', 'jobs', 'runner', 'strategy', 'matrix'];
const STATUS_NAMES = ['success', 'failure', 'cancelled', 'always'] as const;

function statusDefinitions(status: StatusFunctions | undefined): Map<string, FunctionDefinition> {
  const answer = (name: (typeof STATUS_NAMES)[number]): boolean => {
    if (name === 'always') return true;
    if (!status) throw new Error(`${name}() is not allowed here`);
    return status[name]();
  };
  return new Map(
    STATUS_NAMES.map((name) => [name, { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(answer(name)) }] as const),
  );
}

function toData(contexts: Contexts): data.Dictionary {
  return JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
}

export function evaluate(expression: string, contexts: Contexts, status?: StatusFunctions): data.ExpressionData {
  try {
    const tokens = new Lexer(expression).lex().tokens;
    const functions = statusDefinitions(status);
    const tree = new Parser(tokens, CONTEXT_NAMES, [...functions.values()]).parse();
    return new Evaluator(tree, toData(contexts), functions).evaluate();
  } catch (e) {
    throw new Error(`expression ${JSON.stringify(expression)}: ${(e as Error).message}`, { cause: e });
  }
}

/** An `if:`: truthy as GitHub reads it ('' and 0 and null are false). */
export function evaluateCondition(expression: string, contexts: Contexts, status?: StatusFunctions): boolean {
  const r = evaluate(expression, contexts, status);
  switch (r.kind) {
    case data.Kind.Null:
      return false;
    case data.Kind.Boolean:
      return (r as data.BooleanData).value;
    case data.Kind.Number:
      return r.number() !== 0 && !Number.isNaN(r.number());
    case data.Kind.String:
      return r.coerceString() !== '';
    default:
      return true;
  }
}

function toJs(d: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(d, data.replacer)) as unknown;
}

/** A token of the workflow (a `with:` value, an `env:` map, `run:`) with its expressions evaluated. */
export function evaluateToken(token: TemplateToken, contexts: Contexts, status?: StatusFunctions): unknown {
  if (isBasicExpression(token)) return toJs(evaluate(token.expression, contexts, status));
  if (isString(token)) return token.value;
  if (isBoolean(token) || isNumber(token)) return token.value;
  if (token.templateTokenType === TokenType.Null) return null;
  if (isSequence(token)) return [...token].map((t) => evaluateToken(t, contexts, status));
  if (isMapping(token)) {
    return Object.fromEntries(
      [...token].map((p) => [String(evaluateToken(p.key, contexts, status)), evaluateToken(p.value, contexts, status)]),
    );
  }
  throw new Error(`cannot evaluate a ${token.typeName()} token`);
}

/** What an action input or an env value receives: a string (true → 'true', null → ''). */
export function evaluateString(token: TemplateToken, contexts: Contexts, status?: StatusFunctions): string {
  const v = evaluateToken(token, contexts, status);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function evaluateMap(token: TemplateToken | undefined, contexts: Contexts): Record<string, string> {
  if (!token) return {};
  const v = evaluateToken(token, contexts);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a mapping');
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null || x === undefined ? '' : String(x)]));
}
