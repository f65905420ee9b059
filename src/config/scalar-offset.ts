import type { Scalar } from 'yaml';

/**
 * Where a character of a string's value sits in the YAML text. A value is not
 * its source: quotes, escapes, folded lines and a block scalar's indentation
 * are gone, so an offset into the value is decoded again here, character by
 * character. The decoding is checked against the parser's own value; when
 * they differ (a form not handled here) the answer is "unknown" and the caller
 * falls back to the start of the value rather than to a wrong column.
 */
export function scalarSourceOffset(text: string, node: Scalar, valueOffset: number): number | undefined {
  if (typeof node.value !== 'string' || !node.range) return undefined;
  const [start, end] = node.range;
  const raw = text.slice(start, end);
  const decoded = decodeScalar(raw, node.type);
  if (decoded === undefined) return undefined;
  const block = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED';
  const same = block ? decoded.value.replace(/\n+$/, '') === node.value.replace(/\n+$/, '') : decoded.value === node.value;
  const at = decoded.map[valueOffset];
  return same && at !== undefined ? start + at : undefined;
}

class Decoded {
  value = '';
  /** map[i]: offset in the raw text of the value's i-th UTF-16 unit. */
  readonly map: number[] = [];

  push(chars: string, at: number): void {
    this.value += chars;
    for (let i = 0; i < chars.length; i++) this.map.push(at);
  }
}

interface Line {
  text: string;
  start: number;
}

function linesOf(raw: string, from: number, to: number): Line[] {
  const out: Line[] = [];
  let start = from;
  for (;;) {
    const nl = raw.indexOf('\n', start);
    const stop = nl === -1 || nl >= to ? to : nl;
    out.push({ text: raw.slice(start, stop).replace(/\r$/, ''), start });
    if (stop === to) return out;
    start = nl + 1;
  }
}

function decodeScalar(raw: string, type: Scalar['type']): Decoded | undefined {
  switch (type) {
    case 'PLAIN': return decodeFlow(raw, 0, raw.length, plainLine);
    case 'QUOTE_SINGLE': return decodeFlow(raw, 1, raw.length - 1, singleQuotedLine);
    case 'QUOTE_DOUBLE': return decodeFlow(raw, 1, raw.length - 1, doubleQuotedLine);
    case 'BLOCK_LITERAL': return decodeBlock(raw, false);
    case 'BLOCK_FOLDED': return decodeBlock(raw, true);
    default: return undefined;
  }
}

/** Decode one line's characters from `from` to `to` (raw offsets) into `out`. */
type LineDecoder = (raw: string, from: number, to: number, out: Decoded) => void;

/** Plain and quoted scalars: lines are trimmed and folded (one break is a space, each empty line a newline). */
function decodeFlow(raw: string, from: number, to: number, decodeLine: LineDecoder): Decoded {
  const out = new Decoded();
  const lines = linesOf(raw, from, to);
  let empties = 0;
  let escapedBreak = false;
  let previousEnd = from;
  for (const [i, line] of lines.entries()) {
    const lead = i === 0 ? 0 : line.text.length - line.text.trimStart().length;
    let body = line.text.slice(lead);
    const breakEscaped = decodeLine === doubleQuotedLine && i < lines.length - 1 && /(^|[^\\])(\\\\)*\\$/.test(body);
    if (breakEscaped) body = body.slice(0, -1);
    else if (i < lines.length - 1) body = body.trimEnd();
    if (body === '' && i > 0 && i < lines.length - 1) {
      empties++;
      continue;
    }
    if (i > 0 && !escapedBreak) out.push(empties > 0 ? '\n'.repeat(empties) : ' ', previousEnd);
    const bodyStart = line.start + lead;
    decodeLine(raw, bodyStart, bodyStart + body.length, out);
    previousEnd = bodyStart + body.length;
    empties = 0;
    escapedBreak = breakEscaped;
  }
  return out;
}

const plainLine: LineDecoder = (raw, from, to, out) => {
  for (let i = from; i < to; i++) out.push(raw[i]!, i);
};

const singleQuotedLine: LineDecoder = (raw, from, to, out) => {
  for (let i = from; i < to; i++) {
    out.push(raw[i]!, i);
    if (raw[i] === "'" && raw[i + 1] === "'") i++;
  }
};

const ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

const doubleQuotedLine: LineDecoder = (raw, from, to, out) => {
  for (let i = from; i < to; i++) {
    if (raw[i] !== '\\') {
      out.push(raw[i]!, i);
      continue;
    }
    const code = raw[i + 1] ?? '';
    const hex = HEX_LENGTH[code];
    if (hex !== undefined) {
      out.push(String.fromCodePoint(Number.parseInt(raw.slice(i + 2, i + 2 + hex), 16)), i);
      i += 1 + hex;
    } else {
      out.push(ESCAPES[code] ?? code, i);
      i += 1;
    }
  }
};

/** `|` and `>`: the header line, then lines at one indentation; `>` folds breaks between ordinary lines into spaces. */
function decodeBlock(raw: string, folded: boolean): Decoded | undefined {
  const headerEnd = raw.indexOf('\n');
  if (headerEnd === -1) return undefined;
  const lines = linesOf(raw, headerEnd + 1, raw.length);
  const firstText = lines.find((l) => l.text.trim() !== '')?.text ?? '';
  const indent = firstText.length - firstText.trimStart().length;
  const out = new Decoded();
  let empties = 0;
  let previous: string | undefined;
  let previousEnd = headerEnd;
  for (const line of lines) {
    const body = line.text.slice(indent);
    if (body.trim() === '' && line.text.length <= indent) {
      empties++;
      continue;
    }
    if (previous !== undefined) out.push(blockSeparator(folded, previous, body, empties), previousEnd);
    else if (empties > 0) out.push('\n'.repeat(empties), previousEnd);
    decodeBlockLine(line, indent, body, out);
    previous = body;
    previousEnd = line.start + line.text.length;
    empties = 0;
  }
  // Chomping decides how many of the final breaks the value keeps; each maps to the end of the last line.
  out.push('\n'.repeat(empties + 1), previousEnd);
  return out;
}

function decodeBlockLine(line: Line, indent: number, body: string, out: Decoded): void {
  for (let i = 0; i < body.length; i++) out.push(body[i]!, line.start + indent + i);
}

function blockSeparator(folded: boolean, previous: string, next: string, empties: number): string {
  const moreIndented = (s: string): boolean => /^[ \t]/.test(s);
  if (!folded || moreIndented(previous) || moreIndented(next)) return '\n'.repeat(empties + 1);
  return empties > 0 ? '\n'.repeat(empties) : ' ';
}
