import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Chunker, chunkBuffer, gearTable, type ChunkerParams } from './index.js';
import { prng } from '../../testing/prng.js';

const MiB = 1024 * 1024;
const SMALL: ChunkerParams = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
const gear = gearTable(Buffer.alloc(32, 1));

/** Deterministic pseudo-random bytes: the AES-256-CTR keystream of a seed. */
function randomData(length: number, seed: number): Buffer {
  const key = createHash('sha256').update(`data-${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}


function chunkStreamed(data: Buffer, params: Partial<ChunkerParams>, pieceSizes: () => number): Buffer[] {
  const chunker = new Chunker(params, gear);
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const end = Math.min(data.length, at + pieceSizes());
    out.push(...chunker.push(data.subarray(at, end)));
    at = end;
  }
  const last = chunker.finish();
  if (last) out.push(last);
  return out;
}

const lengths = (chunks: Buffer[]): number[] => chunks.map((c) => c.length);
const digest = (c: Buffer): string => createHash('sha256').update(c).digest('hex');

describe('Chunker boundaries', () => {
  it('are the same however the input is split into pushes', () => {
    const data = randomData(2 * MiB, 1);
    const reference = chunkBuffer(data, SMALL, gear);
    expect(reference.length).toBeGreaterThan(100);
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = prng(seed);
      const maxPiece = [1, 7, 100, 5000, 40_000, 300_000][seed % 6] as number;
      // Every third seed also pushes empty buffers.
      const piece = seed % 3 === 0 ? () => Math.floor(rnd() * (maxPiece + 1)) : () => 1 + Math.floor(rnd() * maxPiece);
      const chunks = chunkStreamed(data, SMALL, piece);
      expect(lengths(chunks)).toEqual(lengths(reference));
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    }
  });

  it('are the same under random splits with the default sizes', () => {
    const data = randomData(24 * MiB, 2);
    const reference = lengths(chunkBuffer(data, {}, gear));
    for (let seed = 1; seed <= 4; seed++) {
      const rnd = prng(seed);
      expect(lengths(chunkStreamed(data, {}, () => 1 + Math.floor(rnd() * 3 * MiB)))).toEqual(reference);
    }
  });

  it('cut at maxSize when no hash boundary comes first, also across pushes', () => {
    const tight = { minSize: 64, avgSize: 256, maxSize: 384 };
    const data = randomData(256 * 1024, 3);
    const reference = lengths(chunkBuffer(data, tight, gear));
    expect(reference.filter((n) => n === 384).length).toBeGreaterThan(50);
    const rnd = prng(9);
    expect(lengths(chunkStreamed(data, tight, () => 1 + Math.floor(rnd() * 700)))).toEqual(reference);
  });
});

describe('Chunker sizes', () => {
  it('stay within [minSize, maxSize] except the last chunk', () => {
    for (const [params, data] of [
      [SMALL, randomData(4 * MiB, 4)],
      [SMALL, Buffer.alloc(MiB, 0)],
      [{}, randomData(40 * MiB, 5)],
    ] as const) {
      const p = { ...{ minSize: 512 * 1024, avgSize: MiB, maxSize: 8 * MiB }, ...params };
      const sizes = lengths(chunkBuffer(data, params, gear));
      for (const n of sizes.slice(0, -1)) {
        expect(n).toBeGreaterThanOrEqual(p.minSize);
        expect(n).toBeLessThanOrEqual(p.maxSize);
      }
      expect(sizes.at(-1)).toBeLessThanOrEqual(p.maxSize);
    }
  });

  it('average near avgSize on random data (within ±30%)', () => {
    for (const [params, size] of [
      [SMALL, 16 * MiB],
      [{}, 96 * MiB],
    ] as const) {
      const avg = 'avgSize' in params ? params.avgSize : MiB;
      const sizes = lengths(chunkBuffer(randomData(size, 6), params, gear)).slice(0, -1);
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      expect(mean).toBeGreaterThan(avg * 0.7);
      expect(mean).toBeLessThan(avg * 1.3);
    }
  });
});

describe('Chunker deduplication', () => {
  it('an insertion near the start changes only the first one or two chunks', () => {
    const original = randomData(32 * MiB, 7);
    const edited = Buffer.concat([original.subarray(0, 1000), Buffer.from('hello'), original.subarray(1000)]);
    const before = new Set(chunkBuffer(original, {}, gear).map(digest));
    const after = chunkBuffer(edited, {}, gear);
    expect(after.length).toBeGreaterThan(15);
    const changed = after.filter((c) => !before.has(digest(c)));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
    expect(after.indexOf(changed.at(-1) as Buffer)).toBeLessThan(2);
  });

  it('an insertion in the middle changes at most two chunks', () => {
    const original = randomData(4 * MiB, 8);
    const mid = 2 * MiB + 123;
    const edited = Buffer.concat([original.subarray(0, mid), Buffer.from([1, 2, 3]), original.subarray(mid)]);
    const before = new Set(chunkBuffer(original, SMALL, gear).map(digest));
    const changed = chunkBuffer(edited, SMALL, gear).filter((c) => !before.has(digest(c)));
    expect(changed.length).toBeGreaterThanOrEqual(1);
    expect(changed.length).toBeLessThanOrEqual(2);
  });

  it('different keys give different boundaries', () => {
    const data = randomData(2 * MiB, 9);
    const a = lengths(chunkBuffer(data, SMALL, gearTable(Buffer.alloc(32, 1))));
    const b = lengths(chunkBuffer(data, SMALL, gearTable(Buffer.alloc(32, 2))));
    expect(a).not.toEqual(b);
    const cutsA = new Set(a.map((_, i) => a.slice(0, i + 1).reduce((x, y) => x + y, 0)));
    const shared = b.map((_, i) => b.slice(0, i + 1).reduce((x, y) => x + y, 0)).filter((c) => cutsA.has(c));
    expect(shared.length).toBeLessThan(b.length / 10);
  });
});

describe('Chunker memory and lifecycle', () => {
  it('returns subarrays for chunks within one push and copies for chunks that span pushes', () => {
    const data = randomData(MiB, 10);
    const chunker = new Chunker(SMALL, gear);
    const first = chunker.push(data);
    expect(first.length).toBeGreaterThan(10);
    for (const c of first) expect(c.buffer).toBe(data.buffer);

    const spanning = new Chunker(SMALL, gear);
    const out: Buffer[] = [];
    for (let at = 0; at < 64 * 1024; at += 100) out.push(...spanning.push(data.subarray(at, at + 100)));
    expect(out.length).toBeGreaterThan(2);
    for (const c of out) expect(c.buffer).not.toBe(data.buffer);
  });

  it('finish returns undefined for an empty stream and resets for the next stream', () => {
    const chunker = new Chunker(SMALL, gear);
    expect(chunker.finish()).toBeUndefined();
    chunker.push(Buffer.alloc(0));
    expect(chunker.finish()).toBeUndefined();
    const data = randomData(300_000, 11);
    const once = [...chunker.push(data.subarray(0, 5000)), ...chunker.push(data.subarray(5000))];
    once.push(chunker.finish() as Buffer);
    const again = [...chunker.push(data), chunker.finish() as Buffer];
    expect(lengths(again)).toEqual(lengths(once));
    expect(lengths(once)).toEqual(lengths(chunkBuffer(data, SMALL, gear)));
  });

  it('a stream shorter than minSize is one chunk', () => {
    const chunker = new Chunker(SMALL, gear);
    expect(chunker.push(Buffer.from('abc'))).toEqual([]);
    expect(chunker.push(Buffer.from('def'))).toEqual([]);
    expect(chunker.finish()?.toString()).toBe('abcdef');
  });
});
