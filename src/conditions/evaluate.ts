/** Named facts a check observed (role, lag_bytes, …); the language only reads them. */
type Observations = Readonly<Record<string, unknown>>;
import type { Condition, FieldOperand, Literal, Operand } from './ast.js';

/** What a check saw, in the shape conditions read it. */
export interface ConditionSubject {
  status?: number;
  responseTimeMs?: number;
  /** Raw response body (already bounded by the check). */
  body?: string;
  /** Header names in lower case, as node:http gives them. */
  headers?: Record<string, string | string[] | undefined>;
  certExpiresInDays?: number;
  exitCode?: number;
  output?: string;
  /** Any other observation, by its snake_case or camelCase name. */
  observations?: Observations;
}

export interface Evaluation {
  ok: boolean;
  /** e.g. `status == 200 (was 503)`. */
  detail: string;
}

type Resolved = { found: true; value: unknown } | { found: false; why: string };

const MAX_SHOWN = 80;

export function evaluate(condition: Condition, subject: ConditionSubject): Evaluation {
  return new Resolver(subject).evaluate(condition);
}

/** Evaluates every condition against one subject, parsing a JSON body once. */
export function evaluateAll(conditions: readonly Condition[], subject: ConditionSubject): Evaluation[] {
  const resolver = new Resolver(subject);
  return conditions.map((condition) => resolver.evaluate(condition));
}

class Resolver {
  private json: Resolved | undefined;

  constructor(private readonly subject: ConditionSubject) {}

  evaluate(condition: Condition): Evaluation {
    const left = this.operand(condition.left);
    if (!left.found) {
      return { ok: condition.operator === '!=', detail: `${condition.text} (was ${left.why})` };
    }
    const ok = compare(left.value, condition.operator, condition.right);
    return { ok, detail: `${condition.text} (was ${show(left.value)})` };
  }

  private operand(operand: Operand): Resolved {
    if (operand.kind === 'field') return this.field(operand);
    const of = this.field(operand.of);
    if (!of.found) return of;
    const { value } = of;
    if (typeof value === 'string' || Array.isArray(value)) return { found: true, value: value.length };
    if (isObject(value)) return { found: true, value: Object.keys(value).length };
    return { found: false, why: `${show(value)}, which has no length` };
  }

  private field(field: FieldOperand): Resolved {
    const s = this.subject;
    switch (field.root) {
      case 'status':
        return known(s.status ?? s.observations?.status, 'missing');
      case 'response_time':
        return known(s.responseTimeMs, 'missing');
      case 'cert_expires_in':
        return known(s.certExpiresInDays ?? s.observations?.certExpiresInDays, 'missing: not a TLS connection');
      case 'exit_code':
        return known(s.exitCode ?? s.observations?.exitCode, 'missing');
      case 'output':
        return known(s.output, 'missing');
      case 'header':
        return this.header(String(field.path[0]));
      case 'body':
        return field.path.length === 0 ? known(s.body, 'missing') : this.jsonPath(field);
      default:
        return known(observation(s.observations, field.root), 'missing');
    }
  }

  private header(name: string): Resolved {
    const value = this.subject.headers?.[name.toLowerCase()];
    return known(Array.isArray(value) ? value.join(', ') : value, 'missing');
  }

  private jsonPath(field: FieldOperand): Resolved {
    this.json ??= parseJson(this.subject.body);
    if (!this.json.found) return this.json;
    let value = this.json.value;
    for (const segment of field.path) {
      if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
      else if (isObject(value) && typeof segment === 'string') value = value[segment];
      else value = undefined;
      if (value === undefined) return { found: false, why: 'missing' };
    }
    return { found: true, value };
  }
}

function known(value: unknown, why: string): Resolved {
  return value === undefined || value === null ? { found: false, why } : { found: true, value };
}

function parseJson(body: string | undefined): Resolved {
  if (body === undefined) return { found: false, why: 'missing: no body' };
  try {
    return { found: true, value: JSON.parse(body) as unknown };
  } catch {
    return { found: false, why: 'missing: body is not JSON' };
  }
}

function observation(observations: Observations | undefined, name: string): unknown {
  if (!observations) return undefined;
  if (name in observations) return observations[name];
  const camel = name.replace(/_([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
  return observations[camel];
}

function compare(left: unknown, operator: Condition['operator'], right: Literal): boolean {
  switch (operator) {
    case '==':
      return equals(left, right);
    case '!=':
      return !equals(left, right);
    case 'contains':
      return contains(left, right);
    case 'matches':
      return right.kind === 'regex' && right.value.test(text(left));
    default:
      return ordered(left, operator, right);
  }
}

function ordered(left: unknown, operator: '<' | '<=' | '>' | '>=', right: Literal): boolean {
  const a = toNumber(left);
  const b = right.value;
  if (a === undefined || typeof b !== 'number') return false;
  if (operator === '<') return a < b;
  if (operator === '<=') return a <= b;
  if (operator === '>') return a > b;
  return a >= b;
}

function equals(left: unknown, right: Literal): boolean {
  switch (right.kind) {
    case 'number':
    case 'duration':
      return toNumber(left) === right.value;
    case 'boolean':
      return left === right.value || text(left) === String(right.value);
    default:
      return text(left) === String(right.value);
  }
}

function contains(left: unknown, right: Literal): boolean {
  if (Array.isArray(left)) return left.some((item) => equals(item, right));
  return text(left).includes(String(right.value));
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isObject(value) || Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (typeof value === 'number') return String(Math.round(value * 100) / 100);
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown;
}
