export type { Condition, Literal, Operand, Operator, ParseResult, PathSegment } from './ast.js';
export { OPERATORS } from './ast.js';
export { parseCondition, MAX_REGEX_LENGTH, MAX_CONDITION_LENGTH } from './parser.js';
export { evaluate, evaluateAll, type ConditionSubject, type Evaluation } from './evaluate.js';
