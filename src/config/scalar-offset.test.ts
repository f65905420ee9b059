import { describe, expect, it } from 'vitest';
import { isMap, isScalar, parseDocument, type Scalar } from 'yaml';
import { scalarSourceOffset } from './scalar-offset.js';

function scalar(text: string): Scalar {
  const doc = parseDocument(text);
  const node = isMap(doc.contents) ? doc.contents.items[0]?.value : undefined;
  if (!isScalar(node)) throw new Error('fixture is not key: scalar');
  return node;
}

const FORMS: Record<string, string> = {
  plain: 'k: one two\n  three\n\n  four five\n',
  single: "k: 'it''s\n  folded\n\n  here '\n",
  double: 'k: "tab\\tq\\"x\\u00e9 \\\n  joined\n  folded"\n',
  literal: 'k: |\n  line one\n    indented\n\n  last\n',
  folded: 'k: >-\n  folded one\n  two\n\n  para\n    more\n  end\n',
};

describe('scalarSourceOffset', () => {
  for (const [form, text] of Object.entries(FORMS)) {
    it(`maps every character of a ${form} scalar back to its source`, () => {
      const node = scalar(text);
      const value = node.value as string;
      expect(scalarSourceOffset(text, node, 0)).toBeDefined();
      for (let i = 0; i < value.length; i++) {
        const at = scalarSourceOffset(text, node, i);
        expect(at, `${form}[${i}]`).toBeDefined();
        // Letters are copied as they are; separators and escapes map to where they come from.
        if (/[a-z]/.test(value[i]!)) expect(text[at!], `${form}[${i}]`).toBe(value[i]);
      }
    });
  }

  it('answers undefined for a value that is not a string', () => {
    const text = 'k: 12\n';
    expect(scalarSourceOffset(text, scalar(text), 0)).toBeUndefined();
  });
});
