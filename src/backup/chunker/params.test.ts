import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { Chunker, DEFAULT_CHUNKER_PARAMS, gearTable, resolveChunkerParams, type ChunkerParams } from './index.js';

const popcount = (x: number): number => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
};

function usageError(fn: () => unknown): BulwarkError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BulwarkError);
    expect((err as BulwarkError).code).toBe('USAGE');
    expect((err as BulwarkError).hint).toBeTruthy();
    return err as BulwarkError;
  }
  throw new Error('expected a USAGE error');
}

describe('resolveChunkerParams', () => {
  it('defaults to 512 KiB / 1 MiB / 8 MiB with level-2 normalized masks', () => {
    const p = resolveChunkerParams();
    expect(p).toMatchObject({ ...DEFAULT_CHUNKER_PARAMS });
    expect(p.minSize).toBe(512 * 1024);
    expect(popcount(p.maskS)).toBe(22);
    expect(popcount(p.maskL)).toBe(18);
    expect(p.maskS >>> 0).toBe(0xfffffc00);
    expect(p.maskL >>> 0).toBe(0xffffc000);
  });

  it('fills in missing sizes from the defaults', () => {
    expect(resolveChunkerParams({ maxSize: 4 * 1024 * 1024 })).toMatchObject({ minSize: 512 * 1024, maxSize: 4 * 1024 * 1024 });
  });

  it.each<[Partial<ChunkerParams>, RegExp]>([
    [{ avgSize: 1000 * 1000 }, /power of two/],
    [{ minSize: 1024 * 1024 }, /minSize < avgSize < maxSize/],
    [{ maxSize: 1024 * 1024 }, /minSize < avgSize < maxSize/],
    [{ minSize: 16, avgSize: 256, maxSize: 1024 }, /minSize 16 is below 64/],
    [{ avgSize: 128, minSize: 64, maxSize: 1024 }, /outside/],
    [{ avgSize: 128 * 1024 * 1024, maxSize: 512 * 1024 * 1024 }, /outside/],
    [{ maxSize: 512 * 1024 * 1024 }, /above/],
    [{ minSize: 1.5 }, /positive integer/],
    [{ avgSize: -4 }, /positive integer/],
    [{ maxSize: Number.NaN }, /positive integer/],
  ])('rejects %o', (params, message) => {
    expect(usageError(() => resolveChunkerParams(params)).message).toMatch(message);
  });

  it('the Chunker constructor validates too', () => {
    usageError(() => new Chunker({ avgSize: 3000 }, gearTable(Buffer.alloc(32))));
  });
});

describe('gearTable', () => {
  it('is 256 uint32 values, deterministic per key, and differs between keys', () => {
    const a = gearTable(Buffer.alloc(32, 1));
    expect(a).toHaveLength(256);
    expect(gearTable(Buffer.alloc(32, 1))).toEqual(a);
    const b = gearTable(Buffer.alloc(32, 2));
    expect(b.filter((v, i) => v === a[i])).toHaveLength(0);
    expect(new Set(a).size).toBe(256);
  });

  it('pins the derivation (HMAC-SHA256 with the v1 label), so boundaries never change silently', () => {
    const t = gearTable(Buffer.alloc(32, 0));
    expect([t[0], t[1], t[255]]).toEqual([841305924, 335228125, 2195806949]);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(usageError(() => gearTable(Buffer.alloc(16))).message).toMatch(/32 bytes, got 16/);
  });
});
