import { OPERATORS, type Condition, type FieldOperand, type Literal, type Operand, type Operator, type ParseResult, type PathSegment } from './ast.js';
import { ConditionSyntaxError, tokenize, type Token } from './tokenizer.js';

/** Longest regex accepted after `matches`; long patterns are where catastrophic backtracking hides. */
export const MAX_REGEX_LENGTH = 256;
export const MAX_CONDITION_LENGTH = 1024;

const PATH_ROOTS = new Set(['body']);
const MS_PER_DAY = 86_400_000;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: MS_PER_DAY };
const EXPECTED_OPERATOR = `expected ${OPERATORS.join(', ')}`;

/**
 * Parses one condition such as `status == 200` or `body.items[0].state == "up"`.
 * Pure and fast: the config loader calls it to validate `conditions:` lists.
 */
export function parseCondition(text: string): ParseResult {
  try {
    if (text.length > MAX_CONDITION_LENGTH) {
      throw new ConditionSyntaxError(`condition is longer than ${MAX_CONDITION_LENGTH} characters`, MAX_CONDITION_LENGTH + 1);
    }
    return { ok: true, condition: new Parser(text).parse() };
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return { ok: false, error: error.message, column: error.column };
    throw error;
  }
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  parse(): Condition {
    if (this.peek().kind === 'end') throw this.unexpected('expected a field such as status, body.x or response_time');
    const left = this.operand();
    const operator = this.operator();
    const right = this.literal(left, operator);
    if (this.peek().kind !== 'end') throw this.unexpected('expected the end of the condition');
    return { text: this.source.trim(), left, operator, right };
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private unexpected(expected: string, token = this.peek()): ConditionSyntaxError {
    const what = token.kind === 'end' ? 'end of condition' : `"${token.text}"`;
    return new ConditionSyntaxError(`unexpected ${what} at column ${token.column}; ${expected}`, token.column);
  }

  private expectPunct(ch: string): void {
    const token = this.peek();
    if (token.kind !== 'punct' || token.text !== ch) throw this.unexpected(`expected "${ch}"`);
    this.next();
  }

  private operand(): Operand {
    const start = this.peek();
    const after = this.tokens[this.index + 1];
    if (start.kind === 'word' && start.text === 'len' && after?.kind === 'punct' && after.text === '(') {
      this.next();
      this.next();
      const of = this.field();
      this.expectPunct(')');
      return { kind: 'len', of, text: `len(${of.text})` };
    }
    return this.field();
  }

  private field(): FieldOperand {
    const start = this.next();
    if (start.kind !== 'word') throw this.unexpected('expected a field such as status, body.x or response_time', start);
    const path = this.path();
    const end = this.tokens[this.index - 1] as Token;
    const text = this.source.slice(start.column - 1, end.column - 1 + end.text.length);
    const operand: FieldOperand = { kind: 'field', root: start.text, path, text };
    this.checkPath(operand, start);
    return operand;
  }

  private path(): PathSegment[] {
    const path: PathSegment[] = [];
    for (;;) {
      const token = this.peek();
      if (token.kind === 'punct' && token.text === '.') {
        this.next();
        const key = this.next();
        if (key.kind !== 'word' && key.kind !== 'number') throw this.unexpected('expected a field name after "."', key);
        path.push(key.text);
      } else if (token.kind === 'punct' && token.text === '[') {
        this.next();
        const key = this.next();
        if (key.kind === 'number' && /^\d+$/.test(key.text)) path.push(Number(key.text));
        else if (key.kind === 'string') path.push(key.value);
        else throw this.unexpected('expected an array index or a quoted key inside [ ]', key);
        this.expectPunct(']');
      } else {
        return path;
      }
    }
  }

  private checkPath(operand: FieldOperand, start: Token): void {
    const { root, path } = operand;
    if (root === 'header') {
      if (path.length !== 1 || typeof path[0] !== 'string') {
        throw new ConditionSyntaxError(`"header" needs one header name, e.g. header.content-type (column ${start.column})`, start.column);
      }
      return;
    }
    if (path.length > 0 && !PATH_ROOTS.has(root)) {
      const column = start.column + root.length;
      throw new ConditionSyntaxError(`"${root}" has no fields at column ${column}; only body.a.b paths are supported`, column);
    }
  }

  private operator(): Operator {
    const token = this.peek();
    const text = token.text as Operator;
    const isOperator = (token.kind === 'op' || token.kind === 'word') && OPERATORS.includes(text);
    if (!isOperator) throw this.unexpected(EXPECTED_OPERATOR);
    this.next();
    return text;
  }

  private literal(left: Operand, operator: Operator): Literal {
    const token = this.peek();
    const literal = this.readLiteral(left);
    if (['<', '<=', '>', '>='].includes(operator) && literal.kind !== 'number' && literal.kind !== 'duration') {
      throw this.unexpected(`expected a number or a duration after "${operator}"`, token);
    }
    if (operator === 'matches') return regexLiteral(literal, token);
    return literal;
  }

  private readLiteral(left: Operand): Literal {
    const token = this.next();
    switch (token.kind) {
      case 'number':
        return { kind: 'number', value: Number(token.text), text: token.text };
      case 'duration':
        return { kind: 'duration', value: durationIn(left, token), text: token.text };
      case 'string':
        return { kind: 'string', value: token.value, text: token.text };
      case 'word':
        if (token.text === 'true' || token.text === 'false') {
          return { kind: 'boolean', value: token.text === 'true', text: token.text };
        }
        return { kind: 'string', value: token.text, text: token.text };
      default:
        throw this.unexpected('expected a number, a duration, a quoted string, true or false', token);
    }
  }
}

function regexLiteral(literal: Literal, token: Token): Literal {
  if (literal.kind !== 'string') {
    throw new ConditionSyntaxError(`expected a quoted regular expression after "matches" at column ${token.column}`, token.column);
  }
  if (literal.value.length > MAX_REGEX_LENGTH) {
    throw new ConditionSyntaxError(`regular expression at column ${token.column} is longer than ${MAX_REGEX_LENGTH} characters`, token.column);
  }
  try {
    return { kind: 'regex', value: new RegExp(literal.value), text: literal.text };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConditionSyntaxError(`invalid regular expression at column ${token.column}: ${reason}`, token.column);
  }
}

/** Converts a duration literal into the unit of the field it is compared with. */
function durationIn(left: Operand, token: Token): number {
  const factor = DURATION_MS[token.value];
  if (factor === undefined) {
    throw new ConditionSyntaxError(`unknown unit "${token.value}" at column ${token.column}; use ms, s, m, h or d`, token.column);
  }
  const ms = Number(token.text.slice(0, -token.value.length)) * factor;
  const root = left.kind === 'field' ? left.root : '';
  if (root === 'response_time' || root.endsWith('_ms')) return ms;
  if (root === 'cert_expires_in' || root.endsWith('_days')) return ms / MS_PER_DAY;
  if (root.endsWith('_seconds')) return ms / 1000;
  throw new ConditionSyntaxError(
    `a duration like "${token.text}" (column ${token.column}) can only be compared with response_time, cert_expires_in or a *_ms/*_seconds/*_days field`,
    token.column,
  );
}
