/**
 * The condition language's syntax tree. A condition is one comparison:
 * `<operand> <operator> <literal>`, e.g. `body.items[0].state == "up"`.
 */
export type Operator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'matches';

export const OPERATORS: readonly Operator[] = ['==', '!=', '<', '<=', '>', '>=', 'contains', 'matches'];

/** A key into a JSON object, or an index into a JSON array. */
export type PathSegment = string | number;

export interface FieldOperand {
  kind: 'field';
  /** status, response_time, body, header, cert_expires_in, exit_code, output, or an observation name. */
  root: string;
  /** JSON path under `body`, or the one header name under `header`. */
  path: PathSegment[];
  /** The operand as written, for messages. */
  text: string;
}

export interface LenOperand {
  kind: 'len';
  of: FieldOperand;
  text: string;
}

export type Operand = FieldOperand | LenOperand;

export type Literal =
  | { kind: 'number'; value: number; text: string }
  /** A duration already converted to the left operand's unit (ms for response_time, days for cert_expires_in). */
  | { kind: 'duration'; value: number; text: string }
  | { kind: 'string'; value: string; text: string }
  | { kind: 'boolean'; value: boolean; text: string }
  | { kind: 'regex'; value: RegExp; text: string };

export interface Condition {
  /** The condition as written (trimmed), used in every message about it. */
  text: string;
  left: Operand;
  operator: Operator;
  right: Literal;
}

export type ParseResult =
  | { ok: true; condition: Condition }
  | { ok: false; error: string; column: number };
