/**
 * `bulwark check` on 1,000 random mutants of examples/full.yaml: whatever the
 * input, it answers (never throws), with an exit code of 0, 1 or 2, and points
 * at a file:line:column whenever it fails.
 *
 * Reproduce a failure with the seed it prints: BULWARK_FUZZ_SEED=<seed> npx vitest run test/fuzz
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkConfig } from '../../src/cli/commands/check.js';
import { prng } from '../../src/testing/prng.js';

const SEED = Number(process.env.BULWARK_FUZZ_SEED ?? 20_260_101) >>> 0;
const MUTANTS = 1_000;
const BATCHES = 10;
const ORIGINAL = readFileSync(new URL('../../examples/full.yaml', import.meta.url), 'utf8');


type Random = () => number;
const int = (rand: Random, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Random, items: readonly T[]): T => items[int(rand, items.length)] as T;

const SPECIAL = [':', '{', '}', '[', ']', '-', ',', '\t', '"', "'", '#', '&', '*', '!', '|', '>', '%', '@', '`', '?', ' ', '\n', '\\', '$', '${', '$${', '<<'];
const UNICODE = ['é', '中', '😀', '\u0000', '\ufeff', '\u2028', '\u00a0', '\u200b', '\ud800', 'İ', 'ﬀ'];
const TOKENS = [
  '', '0', '-1', '1.5', '1e400', '0x1F', '.inf', '.nan', 'null', '~', 'true', 'no', 'yes', '[]', '{}', '[a, b]', '{ a: 1 }',
  '99.9%', '101%', '0%', '30s', '10 parsecs', '1h30m', '-5m', '512KiB', '10XB', 'daily at 25:00', 'every 7 minutes', '@daily',
  '"${env:FUZZ_UNSET}"', '"${file:./fuzz-no-such-file}"', '"$${literal}"', 'http://x:1', 'ftp://x', '127.0.0.1:99999', ':', '- x',
  '&anchor x', '*nope', '!!binary aGk=', '!tag x', '"unterminated', "'", '|', '>', '\u{1F600}', 'a'.repeat(300), '#comment',
];

type Mutation = (text: string, rand: Random) => string;

const lines = (text: string): string[] => text.split('\n');

const textMutations: Record<string, Mutation> = {
  deleteLine: (text, rand) => { const l = lines(text); l.splice(int(rand, l.length), 1); return l.join('\n'); },
  duplicateLine: (text, rand) => { const l = lines(text); const i = int(rand, l.length); l.splice(i, 0, l[i] ?? ''); return l.join('\n'); },
  swapLines: (text, rand) => {
    const l = lines(text);
    const i = int(rand, l.length);
    const j = int(rand, l.length);
    [l[i], l[j]] = [l[j] ?? '', l[i] ?? ''];
    return l.join('\n');
  },
  flipChar: (text, rand) => { const i = int(rand, text.length); return text.slice(0, i) + pick(rand, SPECIAL) + text.slice(i + 1); },
  insertChar: (text, rand) => { const i = int(rand, text.length + 1); return text.slice(0, i) + pick(rand, [...SPECIAL, ...UNICODE]) + text.slice(i); },
  insertUnicode: (text, rand) => { const i = int(rand, text.length + 1); return text.slice(0, i) + pick(rand, UNICODE) + text.slice(i); },
  indent: (text, rand) => {
    const l = lines(text);
    const i = int(rand, l.length);
    const line = l[i] ?? '';
    l[i] = rand() < 0.5 ? ' '.repeat(1 + int(rand, 4)) + line : rand() < 0.5 ? line.replace(/^ {1,2}/, '') : line.replace(/^ /, '\t');
    return l.join('\n');
  },
  truncate: (text, rand) => text.slice(0, int(rand, text.length)),
  replaceValue: (text, rand) => {
    const l = lines(text);
    const candidates = l.map((line, i) => (/:\s+\S/.test(line) ? i : -1)).filter((i) => i >= 0);
    if (candidates.length === 0) return text;
    const i = pick(rand, candidates);
    const line = l[i] ?? '';
    const colons = [...line.matchAll(/:\s+/g)];
    const at = pick(rand, colons);
    const start = (at.index ?? 0) + at[0].length;
    const end = rand() < 0.5 ? line.length : start + int(rand, line.length - start + 1);
    l[i] = line.slice(0, start) + pick(rand, TOKENS) + line.slice(end);
    return l.join('\n');
  },
  deleteRange: (text, rand) => { const i = int(rand, text.length); return text.slice(0, i) + text.slice(i + 1 + int(rand, 40)); },
};

/** Data-level: parse, change one node's type or value, re-serialize with the yaml package. */
function dataMutation(text: string, rand: Random): string {
  const data = parse(text) as Record<string, unknown>;
  const paths: Array<Array<string | number>> = [];
  const collect = (node: unknown, path: Array<string | number>): void => {
    paths.push(path);
    if (Array.isArray(node)) node.forEach((item, i) => collect(item, [...path, i]));
    else if (node !== null && typeof node === 'object') for (const [key, item] of Object.entries(node)) collect(item, [...path, key]);
  };
  collect(data, []);
  const inner = paths.filter((p) => p.length > 0);
  if (inner.length === 0) return text;
  const path = pick(rand, inner);
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], data) as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  const values: unknown[] = [
    null, 0, -1, 1.5, 70_000, Number.MAX_SAFE_INTEGER, true, false, '', 'x', 'bogus value', [], {}, [1, 'two', null], { nested: { deeper: [1] } },
    '99.99%', '0%', '30s', '-1s', '1MB', 'weekly on funday at 03:00', '${env:FUZZ_UNSET}', '$${env:LITERAL}', 'é中😀', 'a'.repeat(500),
  ];
  const choice = int(rand, 5);
  if (choice === 0 && !Array.isArray(parent)) delete parent[key];
  else if (choice === 1 && !Array.isArray(parent)) {
    parent[`${String(key)}${pick(rand, ['_', 's', 'x', ''])}${pick(rand, ['', 'typo'])}`] = parent[key];
    delete parent[key];
  } else if (choice === 2) parent[key] = [parent[key]];
  else parent[key] = pick(rand, values);
  return stringify(data, { lineWidth: 0 });
}

function mutate(rand: Random): { text: string; steps: string[] } {
  let text = ORIGINAL;
  const steps: string[] = [];
  if (rand() < 0.3) {
    const count = 1 + int(rand, 3);
    for (let i = 0; i < count; i++) {
      steps.push('data');
      text = dataMutation(text, rand);
    }
    return { text, steps };
  }
  const names = Object.keys(textMutations);
  const count = 1 + int(rand, 4);
  for (let i = 0; i < count; i++) {
    const name = pick(rand, names);
    steps.push(name);
    text = (textMutations[name] as Mutation)(text, rand);
  }
  return { text, steps };
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulwark-fuzz-'));
  console.log(`check fuzz: seed ${SEED} (reproduce with BULWARK_FUZZ_SEED=${SEED})`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe(`check on ${MUTANTS} mutants of examples/full.yaml`, () => {
  const perBatch = MUTANTS / BATCHES;
  const exitCodes = new Map<number, number>();

  it.each(Array.from({ length: BATCHES }, (_, b) => b))('batch %i', async (batch) => {
    for (let n = batch * perBatch; n < (batch + 1) * perBatch; n++) {
      const rand = prng(SEED ^ Math.imul(n + 1, 0x9e3779b1));
      const { text, steps } = mutate(rand);
      const file = join(dir, `mutant-${n}.yaml`);
      writeFileSync(file, text);
      const json = n % 4 === 0;
      const context = `mutant ${n} of seed ${SEED} (${steps.join(', ')}), kept at ${file}:\n${text.slice(0, 2000)}`;

      let result: { exitCode: number; output: string };
      try {
        result = await checkConfig({ config: file, json }, { env: {} });
      } catch (err) {
        throw new Error(`checkConfig threw on ${context}\n${(err as Error).stack ?? String(err)}`, { cause: err });
      }
      expect([0, 1, 2], context).toContain(result.exitCode);
      expect(result.output.trim().length, context).toBeGreaterThan(0);
      expect(result.output, context).not.toContain('[object Object]');
      if (json) {
        const body = JSON.parse(result.output) as { ok: boolean; findings: Array<{ line?: number; column?: number; file?: string }> };
        expect(body.ok, context).toBe(result.exitCode === 0);
        if (result.exitCode !== 0) {
          expect(body.findings.some((f) => f.file === file && Number.isInteger(f.line) && Number.isInteger(f.column)), context).toBe(true);
        }
      } else if (result.exitCode !== 0) {
        expect(result.output, context).toMatch(new RegExp(`${escapeRegExp(file)}:\\d+:\\d+ error`));
      }
      exitCodes.set(result.exitCode, (exitCodes.get(result.exitCode) ?? 0) + 1);
      rmSync(file);
    }
  }, 60_000);

  it('produced a mix of outcomes', () => {
    console.log(`check fuzz: exit codes ${JSON.stringify(Object.fromEntries(exitCodes))}`);
    expect(exitCodes.get(1) ?? 0).toBeGreaterThan(0);
    expect(exitCodes.get(2) ?? 0).toBeGreaterThan(0);
  });
});
