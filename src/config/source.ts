import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Finding, KeyPath, SourceLocation } from './diagnostics.js';
import { scalarSourceOffset } from './scalar-offset.js';

/**
 * A parsed YAML document that can answer "where is this key path?" and
 * "what text is at it?" for every finding, schema or lint.
 */
export class ConfigSource {
  readonly syntaxFindings: Finding[];
  private readonly lines = new LineCounter();
  private readonly doc: Document.Parsed;

  constructor(readonly file: string, readonly text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, merge: true });
    this.syntaxFindings = dedupe(this.doc.errors.map((error) => ({
      severity: 'error' as const,
      rule: 'yaml.syntax',
      path: [],
      message: firstLine(error.message),
      hint: error.code === 'DUPLICATE_KEY' ? 'remove or rename one of the two keys' : 'fix the YAML syntax at this position',
      location: this.at(error.pos[0]),
    })));
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /**
   * The location of the deepest node along `path`; for a key that is missing, its parent mapping.
   * `valueOffset` points inside a string value (see Finding.valueOffset).
   */
  locate(path: KeyPath, { keyOf = false, valueOffset }: { keyOf?: boolean; valueOffset?: number } = {}): SourceLocation {
    const { node, exact, pairKey } = this.walk(path);
    if (valueOffset !== undefined && exact && isScalar(node)) {
      const inside = scalarSourceOffset(this.text, node, valueOffset);
      if (inside !== undefined) return this.at(inside);
    }
    const target = keyOf && exact && pairKey ? pairKey : node;
    return this.at(target?.range?.[0] ?? 0);
  }

  /** Whether the document itself holds this path (defaults and missing keys do not). */
  has(path: KeyPath): boolean {
    return this.walk(path).exact;
  }

  /** The source text of the value at `path`, shortened for messages. */
  snippet(path: KeyPath): string | undefined {
    const { node, exact } = this.walk(path);
    if (!exact || !node?.range) return undefined;
    const raw = this.text.slice(node.range[0], node.range[1]).trim();
    if (isScalar(node)) return shorten(raw);
    if (isMap(node)) return 'a mapping';
    if (isSeq(node)) return 'a list';
    return shorten(raw);
  }

  private walk(path: KeyPath): { node: Node | null; exact: boolean; pairKey: Node | null } {
    let node: Node | null = this.doc.contents;
    let pairKey: Node | null = null;
    for (const part of path) {
      const next = child(node, part);
      if (!next) return { node, exact: false, pairKey: null };
      node = next.value;
      pairKey = next.key;
    }
    return { node, exact: true, pairKey };
  }

  private at(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }
}

/**
 * Keys the schema accepts under a second spelling and normalises to the first
 * (a template's `template:` is its `body`, seed 000's `level_1:` is a level's
 * `notify`): lint paths name the normalised key, the file may hold either.
 */
const SPELLINGS: Record<string, RegExp> = { body: /^template$/, notify: /^level_\d+$/ };

function child(node: Node | null, part: string | number): { key: Node | null; value: Node | null } | undefined {
  if (isSeq(node) && typeof part === 'number') {
    const item = node.items[part];
    return item === undefined ? undefined : { key: null, value: item as Node };
  }
  if (!isMap(node)) return undefined;
  const found = pairWhere(node.items, (key) => key === String(part))
    ?? (typeof part === 'string' && SPELLINGS[part] ? pairWhere(node.items, (key) => SPELLINGS[part]!.test(key)) : undefined);
  if (found || typeof part !== 'number') return found;
  // A list may be written as { levels: [...] } (escalation policies with `repeat`): index into it.
  const levels = pairWhere(node.items, (key) => key === 'levels');
  return levels ? child(levels.value, part) : undefined;
}

function pairWhere(items: readonly unknown[], match: (key: string) => boolean): { key: Node | null; value: Node | null } | undefined {
  for (const pair of items) {
    if (!isPair(pair)) continue;
    const key = pair.key as Node | null;
    const keyValue = isScalar(key) ? key.value : key;
    if (match(String(keyValue))) return { key, value: (pair.value as Node | null) ?? key };
  }
  return undefined;
}

function firstLine(message: string): string {
  const line = (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
  if (/parseAllDocuments|multiple documents|document end/i.test(line)) {
    return 'the file holds more than one YAML document (a second "---"); bulwark.yaml must be one document';
  }
  return line;
}

/** The YAML parser can report the same problem twice at one position. */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.location?.line}:${f.location?.column}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}
