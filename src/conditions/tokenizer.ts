/** Splits a condition into tokens; columns are 1-based, as editors show them. */
export type TokenKind = 'word' | 'number' | 'duration' | 'string' | 'op' | 'punct' | 'end';

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for strings: the quoted source). */
  text: string;
  /** Strings: the unescaped value. Durations: the unit. */
  value: string;
  column: number;
}

export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_-]/;
const NUMBER = /^-?(\d+(\.\d+)?|\.\d+)/;
const UNIT = /^[A-Za-z]+/;
const OPERATOR_CHARS = '=!<>';
const PUNCT = '.[]()';
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === ' ' || ch === '\t') {
      i++;
      continue;
    }
    const token = readToken(source, i);
    tokens.push(token);
    i += token.text.length;
  }
  tokens.push({ kind: 'end', text: '', value: '', column: source.length + 1 });
  return tokens;
}

function readToken(source: string, i: number): Token {
  const ch = source[i] as string;
  const column = i + 1;
  const rest = source.slice(i);
  if (WORD_START.test(ch)) {
    let end = i + 1;
    while (end < source.length && WORD_PART.test(source[end] as string)) end++;
    const text = source.slice(i, end);
    return { kind: 'word', text, value: text, column };
  }
  const number = NUMBER.exec(rest);
  if (number && (ch !== '-' || number[0].length > 1)) {
    const unit = UNIT.exec(rest.slice(number[0].length));
    if (!unit) return { kind: 'number', text: number[0], value: number[0], column };
    const text = number[0] + unit[0];
    return { kind: 'duration', text, value: unit[0], column };
  }
  if (ch === '"' || ch === "'") return readString(source, i);
  if (OPERATOR_CHARS.includes(ch)) {
    const two = source.slice(i, i + 2);
    const text = ['==', '!=', '<=', '>='].includes(two) ? two : ch;
    return { kind: 'op', text, value: text, column };
  }
  if (PUNCT.includes(ch)) return { kind: 'punct', text: ch, value: ch, column };
  throw new ConditionSyntaxError(`unexpected "${ch}" at column ${column}`, column);
}

function readString(source: string, start: number): Token {
  const quote = source[start] as string;
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === quote) {
      return { kind: 'string', text: source.slice(start, i + 1), value, column: start + 1 };
    }
    if (ch === '\\' && i + 1 < source.length) {
      const next = source[i + 1] as string;
      // Unknown escapes keep their backslash, so regexes like "\d+" read as written.
      value += ESCAPES[next] ?? `\\${next}`;
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw new ConditionSyntaxError(`unterminated string starting at column ${start + 1}`, start + 1);
}
